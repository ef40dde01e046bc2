package dev.jodo.kernel.platform.http;

import io.javalin.config.RoutesConfig;

/**
 * A feature's HTTP endpoints. Each route names the {@link dev.jodo.kernel.platform.auth.Scope} it
 * needs as its route role; a route with no role is open.
 */
@FunctionalInterface
public interface Routes {
  void register(RoutesConfig routes);
}
