package dev.jodo.kernel.dashboard;

import dev.jodo.kernel.gateway.InferenceView;
import io.javalin.http.Context;
import java.sql.SQLException;
import java.util.List;

/** {@code /dashboard/inference}: the latest provider calls of every kernel and the queues here. */
final class InferencePage {
  private static final int RECENT = 50;

  private final InferenceView inference;

  InferencePage(InferenceView inference) {
    this.inference = inference;
  }

  void render(Context ctx, DashboardSessions.Session session) throws SQLException {
    InferenceView.Budgets budgets = inference.budgets();
    List<InferenceView.Call> calls = inference.recent(RECENT);
    StringBuilder body = new StringBuilder(16_384);
    body.append("<p>Today: <strong>")
        .append(budgets.requestsToday())
        .append(budgets.requestsToday() == 1 ? " request" : " requests")
        .append("</strong> costing <strong>")
        .append(Html.money(budgets.costToday()))
        .append("</strong>.</p>\n");

    body.append(
            "<section aria-labelledby=\"queues\">\n<h2 id=\"queues\">Queues on this kernel</h2>\n")
        .append(
            "<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">Provider</th>"
                + "<th scope=\"col\" class=\"num\">Calls running</th>"
                + "<th scope=\"col\" class=\"num\">Waiting</th></tr></thead>\n<tbody>\n");
    for (InferenceView.ProviderBudget p : budgets.providers()) {
      body.append("<tr data-queue=\"")
          .append(Html.text(p.provider()))
          .append("\"><td>")
          .append(Html.text(p.provider()))
          .append("</td>");
      if (!p.enabled()) {
        body.append("<td class=\"num\" colspan=\"2\">disabled</td></tr>\n");
        continue;
      }
      body.append("<td class=\"num\">")
          .append(p.inUse())
          .append(" of ")
          .append(p.capacity())
          .append("</td><td class=\"num\" data-waiting>")
          .append(p.waiting())
          .append("</td></tr>\n");
    }
    body.append("</tbody></table></div>\n</section>\n");

    body.append("<section aria-labelledby=\"recent\">\n<h2 id=\"recent\">Recent requests</h2>\n");
    if (calls.isEmpty()) {
      body.append(
          "<p class=\"empty\">No requests yet. The agents have been suspiciously quiet.</p>\n");
    } else {
      body.append(
          "<div class=\"table-wrap\"><table>\n<caption class=\"small\">The latest "
              + RECENT
              + " calls of every kernel, newest first. Latency runs from admission to"
              + " settlement.</caption>\n<thead><tr>"
              + "<th scope=\"col\">Time</th><th scope=\"col\">Agent</th>"
              + "<th scope=\"col\">Intent</th><th scope=\"col\">Provider</th>"
              + "<th scope=\"col\">Model</th><th scope=\"col\" class=\"num\">Tokens in/out</th>"
              + "<th scope=\"col\" class=\"num\">Cost</th>"
              + "<th scope=\"col\" class=\"num\">Latency</th>"
              + "<th scope=\"col\">Outcome</th></tr></thead>\n<tbody>\n");
      for (InferenceView.Call call : calls) {
        body.append("<tr><td>")
            .append(Html.time(call.at()))
            .append("</td><td>")
            .append(Html.text(call.agent()))
            .append("</td><td>")
            .append(Html.text(call.intent() == null ? "" : call.intent()))
            .append("</td><td>")
            .append(Html.text(call.provider()))
            .append("</td><td>")
            .append(Html.text(call.model()))
            .append("</td><td class=\"num\">")
            .append(call.tokensIn())
            .append(" / ")
            .append(call.tokensOut())
            .append("</td><td class=\"num\">")
            .append(Html.money(call.cost()))
            .append("</td><td class=\"num\">")
            .append(call.latency().map(d -> d.toMillis() + " ms").orElse("running"))
            .append("</td><td class=\"outcome-")
            .append(Html.text(call.outcome()))
            .append("\">")
            .append(Html.text(outcome(call.outcome())))
            .append(
                call.error()
                    .map(e -> "<br><span class=\"small\">" + Html.text(e) + "</span>")
                    .orElse(""))
            .append("</td></tr>\n");
      }
      body.append("</tbody></table></div>\n");
    }
    body.append("</section>\n");
    DashboardRoutes.html(
        ctx,
        200,
        Html.page("Inference", Html.Nav.INFERENCE, true, session.csrf(), body.toString()));
  }

  private static String outcome(String status) {
    return switch (status) {
      case "settled" -> "ok";
      case "reserved" -> "running";
      case "abandoned" -> "abandoned (its kernel stopped)";
      default -> status;
    };
  }
}
