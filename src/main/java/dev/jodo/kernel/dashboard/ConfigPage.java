package dev.jodo.kernel.dashboard;

import dev.jodo.kernel.platform.config.KernelConfig;
import io.javalin.http.Context;

/**
 * {@code /dashboard/config}: the effective configuration with every secret masked, its warnings,
 * and the genesis. Rendered once: the configuration does not change while the kernel runs.
 */
final class ConfigPage {
  private final String body;

  ConfigPage(KernelConfig config) {
    StringBuilder out = new StringBuilder(8192);
    out.append("<p>What this kernel runs with: <code>")
        .append(Html.text(config.configDir().resolve("config.yaml")))
        .append("</code> after defaults, <code>${ENV}</code> values and <code>JODO_*</code>")
        .append(" overrides. Secrets show as <code>")
        .append(ConfigView.MASK)
        .append("</code>; change them in the environment, then restart the kernel.</p>\n");
    if (!config.warnings().isEmpty()) {
      out.append("<h2>Warnings</h2>\n<ul>\n");
      config.warnings().forEach(w -> out.append("<li>").append(Html.text(w)).append("</li>\n"));
      out.append("</ul>\n");
    }
    out.append("<section aria-labelledby=\"effective\">\n<h2 id=\"effective\">Configuration</h2>\n")
        .append("<pre id=\"config-yaml\">")
        .append(Html.text(ConfigView.effective(config)))
        .append("</pre>\n</section>\n")
        .append("<section aria-labelledby=\"genesis\">\n<h2 id=\"genesis\">Genesis</h2>\n")
        .append("<p>The agent's DNA, from <code>genesis.yaml</code>.</p>\n")
        .append("<pre id=\"genesis-yaml\">")
        .append(Html.text(ConfigView.genesis(config.genesis())))
        .append("</pre>\n</section>\n");
    this.body = out.toString();
  }

  void render(Context ctx, DashboardSessions.Session session) {
    DashboardRoutes.html(
        ctx, 200, Html.page("Configuration", Html.Nav.CONFIG, false, session.csrf(), body));
  }
}
