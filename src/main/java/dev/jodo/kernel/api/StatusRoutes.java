package dev.jodo.kernel.api;

import dev.jodo.kernel.agents.AgentRoutes;
import dev.jodo.kernel.agents.AgentsModule;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** {@code GET /healthz} (open) and {@code GET /api/status} in seed 000's shape. */
public final class StatusRoutes implements Routes {
  private final Clock clock;
  private final Instant startedAt;
  private final String version;
  private final DataSource dataSource;
  private final AgentsModule agents;
  private final String genesisName;

  public StatusRoutes(
      Clock clock,
      Instant startedAt,
      String version,
      DataSource dataSource,
      AgentsModule agents,
      String genesisName) {
    this.clock = clock;
    this.startedAt = startedAt;
    this.version = version;
    this.dataSource = dataSource;
    this.agents = agents;
    this.genesisName = genesisName;
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.get("/healthz", ctx -> ctx.json(Map.of("status", "ok")));
    routes.get("/api/status", this::status, Scope.STATUS);
  }

  private void status(Context ctx) {
    Map<String, Object> kernel = new LinkedHashMap<>();
    kernel.put("status", "running");
    kernel.put("uptime_seconds", Duration.between(startedAt, clock.instant()).toSeconds());
    kernel.put("version", version);

    Map<String, Object> database = new LinkedHashMap<>();
    try {
      long memories = countLiveMemories();
      database.put("status", "connected");
      database.put("memories_stored", memories);
    } catch (SQLException e) {
      database.put("status", "disconnected");
      database.put("error", e.getMessage());
    }

    Map<String, Object> body = new LinkedHashMap<>();
    body.put("kernel", kernel);
    Instant now = clock.instant();
    List<Map<String, Object>> views =
        agents.views().stream().map(view -> AgentRoutes.StatusView.of(view, now)).toList();
    body.put(
        "jodo",
        views.stream()
            .filter(view -> genesisName.equals(view.get("name")))
            .findFirst()
            .orElse(
                Map.of(
                    "status",
                    "dead",
                    "detail",
                    "no agent is configured; add a jodo: section to config.yaml")));
    body.put("agents", views);
    body.put("database", database);
    ctx.json(body);
  }

  private long countLiveMemories() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT count(*) FROM memories WHERE deleted_at IS NULL");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
