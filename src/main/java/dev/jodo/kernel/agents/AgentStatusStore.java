package dev.jodo.kernel.agents;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The {@code agent_status} table: the supervising kernel writes each agent's {@link
 * AgentSupervisor.Status} there, so every kernel on the database can show it.
 */
public final class AgentStatusStore {
  /** A row: the status, which kernel wrote it, and when. */
  public record Row(String kernel, AgentSupervisor.Status status, Instant updatedAt) {}

  private final DataSource dataSource;

  public AgentStatusStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  public void write(String agent, String kernel, AgentSupervisor.Status status)
      throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                """
                INSERT INTO agent_status (agent, kernel, state, pid, started_at, last_check,
                    healthy, restarts_today, git_tag, git_hash, detail, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())
                ON CONFLICT (agent) DO UPDATE SET kernel = excluded.kernel,
                    state = excluded.state, pid = excluded.pid, started_at = excluded.started_at,
                    last_check = excluded.last_check, healthy = excluded.healthy,
                    restarts_today = excluded.restarts_today, git_tag = excluded.git_tag,
                    git_hash = excluded.git_hash, detail = excluded.detail, updated_at = now()
                """)) {
      ps.setString(1, agent);
      ps.setString(2, kernel);
      ps.setString(3, status.state());
      ps.setLong(4, status.pid());
      ps.setTimestamp(5, timestamp(status.startedAt()));
      ps.setTimestamp(6, timestamp(status.lastCheck()));
      ps.setBoolean(7, status.healthy());
      ps.setInt(8, status.restartsToday());
      ps.setString(9, status.gitTag().orElse(null));
      ps.setString(10, status.gitHash().orElse(null));
      String detail = status.detail().orElse(null);
      ps.setString(
          11, detail == null || detail.length() <= 2000 ? detail : detail.substring(0, 2000));
      ps.executeUpdate();
    }
  }

  public Optional<Row> read(String agent) throws SQLException {
    return Optional.ofNullable(readAll(agent).get(agent));
  }

  public Map<String, Row> readAll() throws SQLException {
    return readAll(null);
  }

  private Map<String, Row> readAll(String only) throws SQLException {
    Map<String, Row> rows = new HashMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT agent, kernel, state, pid, started_at, last_check, healthy, restarts_today,"
                    + " git_tag, git_hash, detail, updated_at FROM agent_status"
                    + (only == null ? "" : " WHERE agent = ?"))) {
      if (only != null) {
        ps.setString(1, only);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          AgentSupervisor.Status status =
              new AgentSupervisor.Status(
                  rs.getString(3),
                  rs.getLong(4),
                  instant(rs.getTimestamp(5)),
                  instant(rs.getTimestamp(6)),
                  rs.getBoolean(7),
                  rs.getInt(8),
                  Optional.ofNullable(rs.getString(9)),
                  Optional.ofNullable(rs.getString(10)),
                  Optional.ofNullable(rs.getString(11)));
          rows.put(rs.getString(1), new Row(rs.getString(2), status, instant(rs.getTimestamp(12))));
        }
      }
    }
    return rows;
  }

  private static Timestamp timestamp(Instant instant) {
    return instant == null ? null : Timestamp.from(instant);
  }

  private static Instant instant(Timestamp timestamp) {
    return timestamp == null ? null : timestamp.toInstant();
  }
}
