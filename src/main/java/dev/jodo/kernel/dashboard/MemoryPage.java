package dev.jodo.kernel.dashboard;

import dev.jodo.kernel.memory.MemoryRecord;
import dev.jodo.kernel.memory.MemoryService;
import dev.jodo.kernel.memory.index.MemoryIndex;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.config.AgentConfig;
import dev.jodo.kernel.platform.http.ApiException;
import io.javalin.http.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /dashboard/memory}: search (hybrid, in one agent's namespace or in every configured one),
 * the newest memories with their tags, and deleting one (confirm, then {@code POST}).
 */
final class MemoryPage {
  private static final int RECENT = 50;
  private static final int FOUND = 20;
  private static final int SHOWN_CHARS = 600;

  private final MemoryService memory;
  private final List<String> namespaces;

  MemoryPage(Dashboard dashboard) {
    this.memory = dashboard.memory();
    Set<String> known = new LinkedHashSet<>();
    known.add(dashboard.config().genesisName());
    dashboard.config().agents().stream().map(AgentConfig::name).forEach(known::add);
    this.namespaces = List.copyOf(known);
  }

  /** A memory as a row shows it: from a search (with its similarity) or from the newest list. */
  private record Shown(
      String id,
      String namespace,
      String content,
      List<String> tags,
      String source,
      Instant createdAt,
      Optional<Double> similarity) {}

  void render(Context ctx, DashboardSessions.Session session) {
    String query = Optional.ofNullable(ctx.queryParam("q")).map(String::strip).orElse("");
    String namespace = Optional.ofNullable(ctx.queryParam("namespace")).orElse("");
    if (!namespace.isEmpty() && !namespaces.contains(namespace)) {
      namespace = "";
    }
    StringBuilder body = new StringBuilder(16_384);
    DashboardRoutes.takeFlash(ctx).ifPresent(done -> body.append(Html.notice("ok", done)));
    body.append(searchForm(query, namespace));
    if (!query.isEmpty()) {
      body.append("<section aria-labelledby=\"found\">\n<h2 id=\"found\">Search results</h2>\n");
      try {
        List<Shown> found = search(query, namespace);
        body.append(
            found.isEmpty()
                ? "<p class=\"empty\">Nothing matched. Either it never happened, or the agents"
                    + " are keeping secrets.</p>\n"
                : table(found, session, true));
      } catch (ApiException e) {
        body.append(Html.notice("error", e.getMessage()));
      }
      body.append("</section>\n");
    }
    body.append("<section aria-labelledby=\"newest\">\n<h2 id=\"newest\">Newest memories</h2>\n");
    List<Shown> recent =
        memory
            .recent(
                Principal.administrator(),
                namespace.isEmpty() ? Optional.empty() : Optional.of(namespace),
                RECENT)
            .stream()
            .map(record -> shown(record, Optional.empty()))
            .toList();
    body.append(
        recent.isEmpty()
            ? "<p class=\"empty\">No memories yet. A clean slate, or a very zen agent.</p>\n"
            : table(recent, session, false));
    body.append("</section>\n");
    DashboardRoutes.html(
        ctx, 200, Html.page("Memory", Html.Nav.MEMORY, false, session.csrf(), body.toString()));
  }

  private String searchForm(String query, String namespace) {
    StringBuilder out = new StringBuilder(1024);
    out.append(
            "<form class=\"card\" role=\"search\" method=\"get\" action=\"/dashboard/memory\">\n"
                + "<label for=\"q\">Search memories</label>\n"
                + "<input id=\"q\" name=\"q\" type=\"search\" maxlength=\"2000\" value=\"")
        .append(Html.text(query))
        .append(
            "\">\n<label for=\"namespace\">Agent</label>\n<select id=\"namespace\" name=\"namespace\">\n")
        .append("<option value=\"\">every agent</option>\n");
    for (String space : namespaces) {
      out.append("<option value=\"")
          .append(Html.text(space))
          .append('"')
          .append(space.equals(namespace) ? " selected" : "")
          .append('>')
          .append(Html.text(space))
          .append("</option>\n");
    }
    return out.append(
            "</select>\n<div class=\"controls\"><button type=\"submit\">Search</button></div>\n"
                + "</form>\n")
        .toString();
  }

  private List<Shown> search(String query, String namespace) {
    List<String> spaces = namespace.isEmpty() ? namespaces : List.of(namespace);
    List<Shown> found = new ArrayList<>();
    for (String space : spaces) {
      MemoryService.Found hits =
          memory.search(
              Principal.administrator(),
              Optional.of(space),
              query,
              FOUND,
              List.of(),
              Optional.empty(),
              Optional.empty(),
              MemoryIndex.Mode.HYBRID);
      for (MemoryIndex.Hit hit : hits.hits()) {
        found.add(
            new Shown(
                hit.id(),
                space,
                hit.content(),
                hit.tags(),
                hit.source(),
                hit.createdAt(),
                Optional.of(hit.similarity())));
      }
    }
    found.sort(Comparator.comparing((Shown s) -> s.similarity().orElse(0.0)).reversed());
    return found.size() > FOUND ? found.subList(0, FOUND) : found;
  }

  private static Shown shown(MemoryRecord record, Optional<Double> similarity) {
    return new Shown(
        record.id(),
        record.namespace(),
        record.content(),
        record.tags(),
        record.source(),
        record.createdAt(),
        similarity);
  }

  private static String table(List<Shown> rows, DashboardSessions.Session session, boolean scored) {
    StringBuilder out = new StringBuilder(8192);
    out.append("<div class=\"table-wrap\"><table>\n<thead><tr>");
    if (scored) {
      out.append("<th scope=\"col\" class=\"num\">Similarity</th>");
    }
    out.append(
        "<th scope=\"col\">Memory</th><th scope=\"col\">Tags</th><th scope=\"col\">Agent</th>"
            + "<th scope=\"col\">Source</th><th scope=\"col\">When</th>"
            + "<th scope=\"col\"><span class=\"small\">Action</span></th></tr></thead>\n<tbody>\n");
    for (Shown row : rows) {
      out.append("<tr data-memory=\"").append(Html.text(row.id())).append("\">");
      if (scored) {
        out.append("<td class=\"num\">")
            .append(String.format(java.util.Locale.ROOT, "%.3f", row.similarity().orElse(0.0)))
            .append("</td>");
      }
      out.append("<td class=\"content\">")
          .append(Html.text(abbreviate(row.content())))
          .append("</td><td>");
      for (String tag : row.tags()) {
        out.append("<span class=\"tag\">").append(Html.text(tag)).append("</span>");
      }
      out.append("</td><td>")
          .append(Html.text(row.namespace()))
          .append("</td><td>")
          .append(Html.text(row.source()))
          .append("</td><td>")
          .append(Html.time(row.createdAt()))
          .append("</td><td><a href=\"/dashboard/memory/")
          .append(Html.text(URLEncoder.encode(row.id(), StandardCharsets.UTF_8)))
          .append("/delete\" aria-label=\"Delete memory ")
          .append(Html.text(row.id()))
          .append("\">Delete</a></td></tr>\n");
    }
    return out.append("</tbody></table></div>\n").toString();
  }

  /** {@code GET /dashboard/memory/{id}/delete}: the memory in full, and a button to delete it. */
  void confirmDelete(Context ctx, DashboardSessions.Session session) {
    MemoryRecord record = memory.get(Principal.administrator(), ctx.pathParam("id"));
    String body =
        "<p>This memory is forgotten for good: searches stop finding it on every kernel.</p>\n"
            + "<div class=\"card\"><p class=\"content\">"
            + Html.text(record.content())
            + "</p><p class=\"small\">"
            + Html.text(record.namespace())
            + " · "
            + Html.time(record.createdAt())
            + (record.tags().isEmpty()
                ? ""
                : " · tags: " + Html.text(String.join(", ", record.tags())))
            + "</p></div>\n<form method=\"post\" action=\"/dashboard/memory/"
            + Html.text(URLEncoder.encode(record.id(), StandardCharsets.UTF_8))
            + "/delete\">\n"
            + Html.csrf(session.csrf())
            + "\n<div class=\"controls\"><button type=\"submit\" class=\"danger\">Delete this"
            + " memory</button>\n<a class=\"button secondary\" href=\"/dashboard/memory\">Keep it</a>"
            + "</div>\n</form>\n";
    DashboardRoutes.html(
        ctx, 200, Html.page("Delete a memory?", Html.Nav.NONE, false, session.csrf(), body));
  }

  /** {@code POST /dashboard/memory/{id}/delete}. */
  void delete(Context ctx, DashboardSessions.Session session) {
    String id = ctx.pathParam("id");
    memory.delete(Principal.administrator(), id);
    DashboardRoutes.flash(ctx, "Memory " + id + " is forgotten.");
    DashboardRoutes.redirect(ctx, "/dashboard/memory");
  }

  private static String abbreviate(String text) {
    return text.length() <= SHOWN_CHARS ? text : text.substring(0, SHOWN_CHARS - 1) + "…";
  }
}
