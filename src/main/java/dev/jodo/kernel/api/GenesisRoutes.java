package dev.jodo.kernel.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;

/** {@code GET /api/genesis}: the agent's DNA as JSON. Read-only: other methods get 405. */
public final class GenesisRoutes implements Routes {
  private final JsonNode genesis;

  public GenesisRoutes(JsonNode genesis) {
    this.genesis = genesis.deepCopy();
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.get("/api/genesis", ctx -> ctx.json(genesis), Scope.GENESIS);
  }
}
