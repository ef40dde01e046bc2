package dev.jodo.kernel.api;

import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** {@code GET /metrics} in Prometheus text format; admin token only (it reveals usage). */
public final class MetricsRoutes implements Routes {
  private final PrometheusMeterRegistry registry;

  public MetricsRoutes(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.get(
        "/metrics",
        ctx ->
            ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(registry.scrape()),
        Scope.ADMIN);
  }
}
