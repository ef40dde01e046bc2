package dev.jodo.kernel.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Control-panel sessions in Postgres ({@code dashboard_sessions}), so that every kernel sharing the
 * database honours them. The cookie value is 32 random bytes; only its SHA-256 is stored. Each
 * session has its own CSRF token, sent back in every form.
 */
final class DashboardSessions {
  /** How long a login lasts; after that the dashboard asks for the admin token again. */
  static final Duration LIFETIME = Duration.ofHours(12);

  private static final SecureRandom RANDOM = new SecureRandom();

  private final DataSource dataSource;
  private final Clock clock;

  DashboardSessions(DataSource dataSource, Clock clock) {
    this.dataSource = dataSource;
    this.clock = clock;
  }

  /** A live session: its CSRF token and when it ends. */
  record Session(String csrf, Instant expiresAt) {}

  /** A new session; {@code cookie} is the value to send to the browser and never store. */
  record Opened(String cookie, Session session) {}

  Opened open() throws SQLException {
    String cookie = random();
    Session session = new Session(random(), clock.instant().plus(LIFETIME));
    try (Connection c = dataSource.getConnection()) {
      // Expired sessions go when someone logs in: the table stays as small as the live logins.
      try (PreparedStatement purge =
          c.prepareStatement("DELETE FROM dashboard_sessions WHERE expires_at < ?")) {
        purge.setTimestamp(1, Timestamp.from(clock.instant()));
        purge.executeUpdate();
      }
      try (PreparedStatement insert =
          c.prepareStatement(
              "INSERT INTO dashboard_sessions (id_hash, csrf, created_at, expires_at)"
                  + " VALUES (?, ?, ?, ?)")) {
        insert.setBytes(1, hash(cookie));
        insert.setString(2, session.csrf());
        insert.setTimestamp(3, Timestamp.from(clock.instant()));
        insert.setTimestamp(4, Timestamp.from(session.expiresAt()));
        insert.executeUpdate();
      }
    }
    return new Opened(cookie, session);
  }

  /** The live session behind a cookie value, if there is one. */
  Optional<Session> find(String cookie) throws SQLException {
    if (cookie == null || cookie.isEmpty() || cookie.length() > 100) {
      return Optional.empty();
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT csrf, expires_at FROM dashboard_sessions"
                    + " WHERE id_hash = ? AND expires_at > ?")) {
      ps.setBytes(1, hash(cookie));
      ps.setTimestamp(2, Timestamp.from(clock.instant()));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(new Session(rs.getString(1), rs.getTimestamp(2).toInstant()))
            : Optional.empty();
      }
    }
  }

  void close(String cookie) throws SQLException {
    if (cookie == null || cookie.isEmpty()) {
      return;
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("DELETE FROM dashboard_sessions WHERE id_hash = ?")) {
      ps.setBytes(1, hash(cookie));
      ps.executeUpdate();
    }
  }

  /** Whether {@code presented} is this session's CSRF token, compared in constant time. */
  static boolean csrfMatches(Session session, String presented) {
    return presented != null
        && MessageDigest.isEqual(
            session.csrf().getBytes(StandardCharsets.UTF_8),
            presented.getBytes(StandardCharsets.UTF_8));
  }

  private static String random() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static byte[] hash(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
