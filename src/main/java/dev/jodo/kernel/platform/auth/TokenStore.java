package dev.jodo.kernel.platform.auth;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/** SQL for {@code api_tokens}. Every method is one statement or one short transaction. */
final class TokenStore {
  private final DataSource dataSource;

  TokenStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  Optional<Principal> findLive(byte[] hash) throws SQLException {
    String sql =
        """
        SELECT kind, agent, scopes FROM api_tokens
        WHERE token_hash = ? AND revoked_at IS NULL
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setBytes(1, hash);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        if ("admin".equals(rs.getString("kind"))) {
          return Optional.of(Principal.administrator());
        }
        return Optional.of(
            new Principal(rs.getString("agent"), false, scopes(rs.getArray("scopes"))));
      }
    }
  }

  boolean hasLiveAdmin() throws SQLException {
    String sql = "SELECT 1 FROM api_tokens WHERE kind = 'admin' AND revoked_at IS NULL";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      return rs.next();
    }
  }

  /** Inserts the first admin token; false if another kernel on this database already did. */
  boolean insertFirstAdmin(byte[] hash, String prefix) throws SQLException {
    String sql =
        """
        INSERT INTO api_tokens (kind, token_hash, token_prefix)
        VALUES ('admin', ?, ?)
        ON CONFLICT DO NOTHING
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setBytes(1, hash);
      ps.setString(2, prefix);
      return ps.executeUpdate() == 1;
    }
  }

  /** Revokes the live admin token and inserts the new one in one transaction. */
  void replaceAdmin(byte[] hash, String prefix) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement revoke =
              c.prepareStatement(
                  "UPDATE api_tokens SET revoked_at = now() WHERE kind = 'admin' AND revoked_at IS NULL");
          PreparedStatement insert =
              c.prepareStatement(
                  "INSERT INTO api_tokens (kind, token_hash, token_prefix) VALUES ('admin', ?, ?)");
          PreparedStatement logOut = c.prepareStatement("DELETE FROM dashboard_sessions")) {
        revoke.executeUpdate();
        insert.setBytes(1, hash);
        insert.setString(2, prefix);
        insert.executeUpdate();
        logOut.executeUpdate(); // every dashboard session was opened with the old token
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    }
  }

  TokenRecord insertAgent(String agent, Set<Scope> scopes, byte[] hash, String prefix)
      throws SQLException {
    String sql =
        """
        INSERT INTO api_tokens (kind, agent, token_hash, token_prefix, scopes)
        VALUES ('agent', ?, ?, ?, ?)
        RETURNING id, kind, agent, token_prefix, scopes, created_at, revoked_at
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, agent);
      ps.setBytes(2, hash);
      ps.setString(3, prefix);
      ps.setArray(4, c.createArrayOf("text", scopes.stream().map(Scope::wireName).toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return record(rs);
      }
    }
  }

  List<TokenRecord> list() throws SQLException {
    String sql =
        """
        SELECT id, kind, agent, token_prefix, scopes, created_at, revoked_at
        FROM api_tokens ORDER BY id
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      List<TokenRecord> result = new ArrayList<>();
      while (rs.next()) {
        result.add(record(rs));
      }
      return result;
    }
  }

  /** Revokes a live agent token; false if there is none with that id. */
  boolean revokeAgent(long id) throws SQLException {
    String sql =
        """
        UPDATE api_tokens SET revoked_at = now()
        WHERE id = ? AND kind = 'agent' AND revoked_at IS NULL
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, id);
      return ps.executeUpdate() == 1;
    }
  }

  private static TokenRecord record(ResultSet rs) throws SQLException {
    Timestamp revoked = rs.getTimestamp("revoked_at");
    return new TokenRecord(
        rs.getLong("id"),
        rs.getString("kind"),
        Optional.ofNullable(rs.getString("agent")),
        rs.getString("token_prefix"),
        scopes(rs.getArray("scopes")),
        rs.getTimestamp("created_at").toInstant(),
        Optional.ofNullable(revoked).map(Timestamp::toInstant));
  }

  private static Set<Scope> scopes(Array array) throws SQLException {
    Set<Scope> scopes = EnumSet.noneOf(Scope.class);
    if (array == null) {
      return scopes;
    }
    for (Object value : (Object[]) array.getArray()) {
      Scope.parse(String.valueOf(value)).ifPresent(scopes::add);
    }
    return scopes;
  }
}
