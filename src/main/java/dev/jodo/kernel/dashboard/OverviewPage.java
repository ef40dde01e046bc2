package dev.jodo.kernel.dashboard;

import dev.jodo.kernel.agents.AgentControls;
import dev.jodo.kernel.agents.AgentSupervisor;
import dev.jodo.kernel.agents.AgentsModule;
import dev.jodo.kernel.agents.brain.Brain;
import dev.jodo.kernel.gateway.InferenceView;
import dev.jodo.kernel.platform.http.ApiException;
import io.javalin.http.Context;
import java.math.BigDecimal;
import java.math.MathContext;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code /dashboard}: each agent's status and controls, budgets, today's calls, git history and
 * milestones; and the confirmation step of each control ({@code GET}, then {@code POST}
 * /dashboard/agents/{name}/restart|rollback|kill|rebirth).
 */
final class OverviewPage {
  private static final int HISTORY = 10;
  private static final int MILESTONES = 15;

  /** A control: its button, what the confirmation says it does, and the notice afterwards. */
  enum Control {
    RESTART("Restart", "Stops the agent's process and starts it again on its current brain.", ""),
    ROLLBACK(
        "Roll back",
        "Moves the agent's brain back to a tagged or earlier commit and restarts it there."
            + " Nothing is lost: uncommitted changes are committed first, and the commits left"
            + " behind stay in git under refs/rolled-back/.",
        ""),
    KILL(
        "Kill",
        "Stops the agent and keeps it stopped: no health checks, no automatic restarts, until you"
            + " press Restart or Rebirth.",
        "danger"),
    REBIRTH(
        "Rebirth",
        "Archives the agent's brain, deploys the seed again and starts a new life from it. The"
            + " old brain is kept in the archive.",
        "danger");

    final String label;
    final String explanation;
    final String style;

    Control(String label, String explanation, String style) {
      this.label = label;
      this.explanation = explanation;
      this.style = style;
    }

    String path() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Control of(String path) {
      for (Control control : values()) {
        if (control.path().equals(path)) {
          return control;
        }
      }
      throw ApiException.notFound(
          "there is no control '" + path + "'; use restart, rollback, kill or rebirth");
    }
  }

  private final AgentsModule agents;
  private final AgentControls controls;
  private final InferenceView inference;
  private final Clock clock;

  OverviewPage(Dashboard dashboard) {
    this.agents = dashboard.agents();
    this.controls = new AgentControls(dashboard.agents());
    this.inference = dashboard.inference();
    this.clock = dashboard.clock();
  }

  void render(Context ctx, DashboardSessions.Session session) throws SQLException {
    Instant now = clock.instant();
    StringBuilder body = new StringBuilder(8192);
    body.append(doneNotice(ctx));
    body.append("<section aria-labelledby=\"agents\">\n<h2 id=\"agents\">Agents</h2>\n");
    List<AgentsModule.View> views = agents.views();
    if (views.isEmpty()) {
      body.append(
          "<p class=\"empty\">No agents yet. The nursery is quiet; add a <code>jodo:</code>"
              + " section to config.yaml to give one a home.</p>\n");
    }
    body.append("<div class=\"grid\">\n");
    for (AgentsModule.View view : views) {
      body.append(agentCard(view, now));
    }
    body.append("</div>\n</section>\n");

    InferenceView.Budgets budgets = inference.budgets();
    body.append(
            "<section aria-labelledby=\"budgets\">\n<h2 id=\"budgets\">Budgets this month</h2>\n")
        .append("<p>Today: <strong>")
        .append(budgets.requestsToday())
        .append(budgets.requestsToday() == 1 ? " request" : " requests")
        .append("</strong> costing <strong>")
        .append(Html.money(budgets.costToday()))
        .append("</strong>. Budgets reset on ")
        .append(Html.time(budgets.resets()))
        .append(".</p>\n");
    body.append(BudgetBars.render(budgets.providers()));
    body.append("</section>\n");

    body.append(
        "<section aria-labelledby=\"history\">\n<h2 id=\"history\">Recent git history</h2>\n");
    for (AgentsModule.View view : views) {
      body.append(history(view.name()));
    }
    if (views.isEmpty()) {
      body.append("<p class=\"empty\">No brains, no history. Yet.</p>\n");
    }
    body.append("</section>\n");

    body.append(
        "<section aria-labelledby=\"milestones\">\n<h2 id=\"milestones\">Growth milestones</h2>\n");
    List<AgentsModule.Milestone> milestones = agents.milestones(MILESTONES);
    if (milestones.isEmpty()) {
      body.append("<p class=\"empty\">No milestones yet. Jodo is still learning to crawl.</p>\n");
    } else {
      body.append(
          "<div class=\"table-wrap\"><table>\n<caption class=\"small\">Newest first</caption>\n"
              + "<thead><tr><th scope=\"col\">When</th><th scope=\"col\">Agent</th>"
              + "<th scope=\"col\">Milestone</th><th scope=\"col\">Note</th>"
              + "<th scope=\"col\">Commit</th></tr></thead>\n<tbody>\n");
      for (AgentsModule.Milestone m : milestones) {
        body.append("<tr><td>")
            .append(Html.time(m.at()))
            .append("</td><td>")
            .append(Html.text(m.agent()))
            .append("</td><td>")
            .append(Html.text(m.event()))
            .append("</td><td>")
            .append(Html.text(m.note()))
            .append("</td><td><code>")
            .append(Html.text(shortHash(m.gitHash())))
            .append("</code></td></tr>\n");
      }
      body.append("</tbody></table></div>\n");
    }
    body.append("</section>\n");
    DashboardRoutes.html(
        ctx, 200, Html.page("Overview", Html.Nav.OVERVIEW, true, session.csrf(), body.toString()));
  }

  private String agentCard(AgentsModule.View view, Instant now) {
    StringBuilder card = new StringBuilder(2048);
    String name = view.name();
    card.append("<article class=\"card\" aria-labelledby=\"agent-")
        .append(Html.text(name))
        .append("\">\n<h3 id=\"agent-")
        .append(Html.text(name))
        .append("\">")
        .append(Html.text(name))
        .append("</h3>\n");
    Optional<AgentSupervisor.Status> status = view.status();
    String state = status.map(AgentSupervisor.Status::state).orElse("starting");
    card.append("<p>Status: ").append(badge(state)).append("</p>\n");
    card.append("<dl class=\"facts\">\n");
    if (status.isPresent()) {
      AgentSupervisor.Status s = status.get();
      fact(card, "PID", s.pid() > 0 ? Long.toString(s.pid()) : "none", "pid");
      fact(
          card,
          "Uptime",
          s.pid() > 0 && s.startedAt() != null
              ? Html.duration(Duration.between(s.startedAt(), now))
              : "not running",
          "uptime");
      fact(
          card,
          "Health check",
          (s.healthy() ? "passing" : "not passing") + ", last " + Html.time(s.lastCheck()),
          "health");
      fact(card, "Restarts today", Integer.toString(s.restartsToday()), "restarts");
      fact(card, "Tag", s.gitTag().orElse("none yet"), "tag");
      fact(card, "Commit", s.gitHash().map(OverviewPage::shortHash).orElse("unknown"), "hash");
      s.detail().ifPresent(detail -> fact(card, "Detail", detail, "detail"));
    } else {
      fact(card, "Detail", "no kernel has supervised this agent yet", "detail");
    }
    fact(card, "Host", view.host(), "host");
    fact(card, "Supervised by", view.kernel() == null ? "no kernel yet" : view.kernel(), "kernel");
    card.append("</dl>\n<div class=\"controls\">\n");
    for (Control control : Control.values()) {
      card.append("<a class=\"button ")
          .append(control.style)
          .append("\" href=\"/dashboard/agents/")
          .append(Html.text(encode(name)))
          .append('/')
          .append(control.path())
          .append("\" aria-label=\"")
          .append(control.label)
          .append(' ')
          .append(Html.text(name))
          .append("\">")
          .append(control.label)
          .append(control == Control.ROLLBACK ? "…" : "")
          .append("</a>\n");
    }
    card.append("</div>\n</article>\n");
    return card.toString();
  }

  private static void fact(StringBuilder card, String term, String value, String key) {
    card.append("<dt>")
        .append(term)
        .append("</dt><dd data-fact=\"")
        .append(key)
        .append("\">")
        .append(Html.text(value))
        .append("</dd>\n");
  }

  /** A status in words and colour (the words carry it; the colour repeats it). */
  static String badge(String state) {
    String known =
        switch (state) {
          case "running", "starting", "unhealthy", "dead", "rebirthing" -> state;
          default -> "unknown";
        };
    String symbol =
        switch (known) {
          case "running" -> "●";
          case "starting" -> "◔";
          case "unhealthy" -> "▲";
          case "dead" -> "✕";
          case "rebirthing" -> "↻";
          default -> "?";
        };
    return "<span class=\"status status-"
        + known
        + "\" data-status=\""
        + Html.text(state)
        + "\"><span aria-hidden=\"true\">"
        + symbol
        + "</span> "
        + Html.text(state.replace('_', ' '))
        + "</span>";
  }

  private String history(String name) {
    StringBuilder out = new StringBuilder(1024);
    out.append("<h3>").append(Html.text(name)).append("</h3>\n");
    List<Brain.HistoryEntry> entries;
    try {
      entries = controls.agent(name).brain().history(HISTORY);
    } catch (RuntimeException e) {
      return out.append(Html.notice("error", "Cannot read the brain's history: " + e.getMessage()))
          .toString();
    }
    if (entries.isEmpty()) {
      return out.append("<p class=\"empty\">No commits yet: a blank slate.</p>\n").toString();
    }
    out.append(
        "<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">Commit</th>"
            + "<th scope=\"col\">Tag</th><th scope=\"col\">Message</th>"
            + "<th scope=\"col\">When</th></tr></thead>\n<tbody>\n");
    for (Brain.HistoryEntry entry : entries) {
      out.append("<tr><td><code>")
          .append(Html.text(shortHash(entry.hash())))
          .append("</code></td><td>")
          .append(
              entry
                  .tag()
                  .map(tag -> "<span class=\"tag\">" + Html.text(tag) + "</span>")
                  .orElse(""))
          .append("</td><td>")
          .append(Html.text(entry.message()))
          .append("</td><td>")
          .append(Html.time(entry.timestamp()))
          .append("</td></tr>\n");
    }
    return out.append("</tbody></table></div>\n").toString();
  }

  /** {@code GET /dashboard/agents/{name}/{control}}: what it does, and a button to do it. */
  void confirm(Context ctx, DashboardSessions.Session session) {
    confirmation(ctx, session, 200, Optional.empty());
  }

  private void confirmation(
      Context ctx, DashboardSessions.Session session, int status, Optional<String> error) {
    Control control = Control.of(ctx.pathParam("action"));
    String name = controls.agent(ctx.pathParam("name")).config().name();
    StringBuilder body = new StringBuilder(2048);
    error.ifPresent(message -> body.append(Html.notice("error", message)));
    body.append("<p>").append(Html.text(control.explanation)).append("</p>\n");
    body.append("<form class=\"card\" method=\"post\" action=\"/dashboard/agents/")
        .append(Html.text(encode(name)))
        .append('/')
        .append(control.path())
        .append("\">\n")
        .append(Html.csrf(session.csrf()))
        .append('\n');
    if (control == Control.ROLLBACK) {
      body.append(rollbackChoices(name));
    }
    body.append("<div class=\"controls\">\n<button type=\"submit\" class=\"")
        .append(control.style)
        .append("\">")
        .append(control.label)
        .append(' ')
        .append(Html.text(name))
        .append("</button>\n<a class=\"button secondary\" href=\"/dashboard\">Cancel</a>\n</div>\n")
        .append("</form>\n");
    DashboardRoutes.html(
        ctx,
        status,
        Html.page(
            control.label + " " + name + "?",
            Html.Nav.NONE,
            false,
            session.csrf(),
            body.toString()));
  }

  private String rollbackChoices(String name) {
    StringBuilder out = new StringBuilder(1024);
    List<Brain.HistoryEntry> entries;
    try {
      entries = controls.agent(name).brain().history(50);
    } catch (RuntimeException e) {
      entries = List.of();
      out.append(Html.notice("error", "Cannot read the brain's history: " + e.getMessage()));
    }
    if (!entries.isEmpty()) {
      out.append(
          "<label for=\"target\">Roll back to</label>\n<select id=\"target\" name=\"target\">\n");
      for (Brain.HistoryEntry entry : entries) {
        String value = entry.tag().orElse(entry.hash());
        out.append("<option value=\"")
            .append(Html.text(value))
            .append("\">")
            .append(Html.text(entry.tag().map(tag -> tag + " · ").orElse("")))
            .append(Html.text(shortHash(entry.hash())))
            .append(" · ")
            .append(Html.text(abbreviate(entry.message(), 60)))
            .append(entry == entries.get(0) ? " (current)" : "")
            .append("</option>\n");
      }
      out.append("</select>\n");
    }
    out.append(
        "<label for=\"other\">Or type a tag or commit hash</label>\n"
            + "<input id=\"other\" name=\"other\" type=\"text\" autocomplete=\"off\""
            + " spellcheck=\"false\" placeholder=\"stable-v2 or a8f3c2d\">\n"
            + "<p class=\"small\">A value typed here wins over the list.</p>\n");
    return out.toString();
  }

  /** {@code POST /dashboard/agents/{name}/{control}}: does it, then back to the overview. */
  void control(Context ctx, DashboardSessions.Session session) {
    Control control = Control.of(ctx.pathParam("action"));
    String name = controls.agent(ctx.pathParam("name")).config().name();
    String done;
    try {
      done =
          switch (control) {
            case RESTART -> {
              long pid = controls.restart(name);
              yield name + " is restarting" + (pid > 0 ? " (pid " + pid + " stopped)" : "") + ".";
            }
            case KILL -> {
              long pid = controls.kill(name);
              yield name
                  + " is stopped"
                  + (pid > 0 ? " (pid " + pid + ")" : "")
                  + " and stays stopped until you restart it.";
            }
            case REBIRTH -> {
              controls.rebirth(name);
              yield name + " is being reborn from the seed. Its old brain is archived.";
            }
            case ROLLBACK -> {
              String target = rollbackTarget(ctx);
              Brain.Rollback moved = controls.rollback(name, target);
              yield name
                  + " rolled back from "
                  + moved.from()
                  + " to "
                  + moved.to()
                  + " and is restarting there.";
            }
          };
    } catch (ApiException e) {
      confirmation(ctx, session, e.status(), Optional.of(e.getMessage()));
      return;
    }
    DashboardRoutes.flash(ctx, done);
    DashboardRoutes.redirect(ctx, "/dashboard");
  }

  private static String rollbackTarget(Context ctx) {
    String other = Optional.ofNullable(ctx.formParam("other")).map(String::strip).orElse("");
    String listed = Optional.ofNullable(ctx.formParam("target")).map(String::strip).orElse("");
    String target = other.isEmpty() ? listed : other;
    if (target.isEmpty()) {
      throw ApiException.invalidField(
          "target", "choose a commit from the list or type a tag or commit hash");
    }
    if (target.length() > 200) {
      throw ApiException.invalidField("target", "is longer than 200 characters; a tag or hash");
    }
    return target;
  }

  /** The notice of a control just done (the overview after its redirect), shown once. */
  private static String doneNotice(Context ctx) {
    return DashboardRoutes.takeFlash(ctx)
        .map(done -> Html.notice("ok", abbreviate(done, 300)))
        .orElse("");
  }

  private static String shortHash(String hash) {
    return hash == null ? "" : hash.substring(0, Math.min(7, hash.length()));
  }

  private static String abbreviate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max - 1) + "…";
  }

  private static String encode(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8);
  }

  /** The per-provider budget bars, with the emergency reserve marked. */
  static final class BudgetBars {
    private BudgetBars() {}

    static String render(List<InferenceView.ProviderBudget> providers) {
      if (providers.isEmpty()) {
        return "<p class=\"empty\">No providers configured. Jodo is on a strict diet.</p>\n";
      }
      StringBuilder out = new StringBuilder(2048);
      out.append("<div class=\"grid\">\n");
      for (InferenceView.ProviderBudget p : providers) {
        out.append("<div class=\"card\" data-provider=\"")
            .append(Html.text(p.provider()))
            .append("\">\n<h3>")
            .append(Html.text(p.provider()))
            .append("</h3>\n");
        if (!p.enabled()) {
          out.append("<p class=\"small\">Disabled (no API key set).</p>\n");
        }
        if (p.monthlyBudget().isEmpty()) {
          out.append("<p><strong>Unlimited</strong>: a free provider. Spent ")
              .append(Html.money(p.spent()))
              .append(" this month.</p>\n");
        } else {
          BigDecimal budget = p.monthlyBudget().get();
          BigDecimal reserve = p.reserve().orElse(BigDecimal.ZERO);
          double spentShare = share(p.spent(), budget);
          double reserveShare = share(reserve, budget);
          boolean intoReserve = p.spent().add(reserve).compareTo(budget) > 0;
          out.append("<div class=\"bar")
              .append(intoReserve ? " over" : "")
              .append("\" aria-hidden=\"true\"><div class=\"reserve\" style=\"width:")
              .append(percent(reserveShare))
              .append("\"></div><div class=\"spent\" style=\"width:")
              .append(percent(spentShare))
              .append("\"></div></div>\n<p>Spent <strong>")
              .append(Html.money(p.spent()))
              .append("</strong> of ")
              .append(Html.money(budget))
              .append(" (")
              .append(percent(spentShare))
              .append("). The last ")
              .append(Html.money(reserve))
              .append(" is the emergency reserve, for repairs only")
              .append(intoReserve ? "; <strong>normal use has run out</strong>." : ".")
              .append("</p>\n");
        }
        out.append("</div>\n");
      }
      return out.append("</div>\n").toString();
    }

    private static double share(BigDecimal part, BigDecimal whole) {
      if (whole.signum() <= 0) {
        return part.signum() > 0 ? 1 : 0;
      }
      return Math.min(1, Math.max(0, part.divide(whole, MathContext.DECIMAL64).doubleValue()));
    }

    private static String percent(double share) {
      return String.format(Locale.ROOT, "%.1f%%", share * 100);
    }
  }
}
