package dev.jodo.kernel.platform.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.jodo.kernel.platform.Throwables;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.core.api.output.MigrateResult;
// Flyway exposes the failed script only on this internal type; the regex below is the fallback.
import org.flywaydb.core.internal.exception.FlywayMigrateException;

/**
 * The kernel's connection pool and schema. One per kernel; several kernels may share the server.
 *
 * <pre>{@code
 * try (Database db = Database.open(target, registry, "kernel-1")) {
 *   db.migrate(Database.KERNEL_MIGRATIONS);
 * }
 * }</pre>
 */
public final class Database implements AutoCloseable {
  public static final List<String> KERNEL_MIGRATIONS = List.of("classpath:db/migration");

  /** The newest version under {@link #KERNEL_MIGRATIONS} (DatabaseTest checks it on the files). */
  static final String LATEST_KERNEL_MIGRATION = "13";

  /** Flyway keeps its history in the connection's current schema; so does this query. */
  private static final String UP_TO_DATE =
      "SELECT coalesce(bool_or(version = '"
          + LATEST_KERNEL_MIGRATION
          + "' AND success), false) AND coalesce(bool_and(success), false)"
          + " FROM %s.kernel_schema_history";

  private static final Pattern MIGRATION_NAME =
      Pattern.compile("(?:Migration|Script) (\\S+\\.sql) failed");

  private final HikariDataSource pool;
  private final String url;
  private final DatabaseTarget.External target;

  private Database(HikariDataSource pool, String url, DatabaseTarget.External target) {
    this.pool = pool;
    this.url = url;
    this.target = target;
  }

  /** Opens the pool and checks one connection, so a wrong URL or password fails at startup. */
  public static Database open(DatabaseTarget.External target, MeterRegistry registry, String name) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("jodo-" + name);
    config.setJdbcUrl(target.jdbcUrl());
    if (!target.user().isEmpty()) {
      config.setUsername(target.user());
    }
    if (!target.password().value().isEmpty()) {
      config.setPassword(target.password().value());
    }
    config.setMaximumPoolSize(target.maxPoolSize());
    config.setMinimumIdle(Math.min(2, target.maxPoolSize()));
    config.setConnectionTimeout(10_000);
    config.setInitializationFailTimeout(3_000);
    config.addDataSourceProperty("ApplicationName", "jodo-kernel");
    config.addDataSourceProperty("reWriteBatchedInserts", "true");
    if (registry != null) {
      config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
    }
    try {
      return new Database(new HikariDataSource(config), redact(target.jdbcUrl()), target);
    } catch (RuntimeException e) {
      throw new DatabaseUnavailableException(
          "cannot connect to PostgreSQL at "
              + redact(target.jdbcUrl())
              + ": "
              + rootMessage(e)
              + "; check JODO_DATABASE_URL or the database section of config.yaml",
          e);
    }
  }

  public DataSource dataSource() {
    return pool;
  }

  /** The server and credentials this pool connects with (for libraries that open their own). */
  public DatabaseTarget.External target() {
    return target;
  }

  public String url() {
    return url;
  }

  /**
   * Applies pending migrations. Safe to run from several kernels at once (Flyway serializes on a
   * Postgres advisory lock) and again on every start (applied versions are skipped).
   *
   * <p>A database whose kernel schema is already at {@link #LATEST_KERNEL_MIGRATION}, with no
   * failed migration, is answered by one query: starting Flyway (loading it, scanning the jar,
   * validating each applied script's checksum) cost every start about 0.3 s before durable runs
   * could resume. The price is that an applied script edited afterwards is not reported at start;
   * the next new migration runs Flyway, which validates them all.
   */
  public int migrate(List<String> locations) {
    if (locations.equals(KERNEL_MIGRATIONS) && upToDate()) {
      return 0;
    }
    try {
      MigrateResult result =
          Flyway.configure()
              .dataSource(pool)
              .locations(locations.toArray(String[]::new))
              .table("kernel_schema_history")
              .baselineOnMigrate(false)
              .validateMigrationNaming(true)
              .load()
              .migrate();
      return result.migrationsExecuted;
    } catch (FlywayException e) {
      throw new MigrationException(describe(e), e);
    }
  }

  private boolean upToDate() {
    try (Connection c = pool.getConnection();
        Statement statement = c.createStatement()) {
      String schema;
      try (ResultSet rs = statement.executeQuery("SELECT quote_ident(current_schema())")) {
        schema = rs.next() ? rs.getString(1) : null;
      }
      if (schema == null) {
        return false; // no schema of the search path exists yet: Flyway reports it
      }
      try (ResultSet rs = statement.executeQuery(UP_TO_DATE.formatted(schema))) {
        return rs.next() && rs.getBoolean(1);
      }
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return false; // no history yet (a new database): Flyway creates it
      }
      throw new MigrationException(
          "cannot read the database's migration history: " + e.getMessage(), e);
    }
  }

  /**
   * A connection of its own, outside the pool, for state that lives as long as a session does
   * (advisory locks). The caller closes it; with TCP keepalive on, a server that vanishes is
   * noticed.
   */
  public Connection openDedicated(String applicationName) throws SQLException {
    java.util.Properties properties = new java.util.Properties();
    if (!target.user().isEmpty()) {
      properties.setProperty("user", target.user());
    }
    if (!target.password().value().isEmpty()) {
      properties.setProperty("password", target.password().value());
    }
    properties.setProperty("ApplicationName", applicationName);
    properties.setProperty("tcpKeepAlive", "true");
    properties.setProperty("connectTimeout", "5");
    properties.setProperty("socketTimeout", "30");
    return java.sql.DriverManager.getConnection(target.jdbcUrl(), properties);
  }

  /** One cheap round trip: is the server answering? */
  public boolean isReachable() {
    try (Connection connection = pool.getConnection()) {
      return connection.isValid(2);
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() {
    pool.close();
  }

  private static String describe(FlywayException e) {
    if (e instanceof FlywayValidateException) {
      // "Validate failed: ..." then what failed, one line each, then a link: keep what failed.
      String details =
          String.valueOf(e.getMessage())
              .lines()
              .skip(1)
              .map(String::strip)
              .filter(line -> !line.isEmpty() && !line.startsWith("Need more flexibility"))
              .collect(Collectors.joining("; "));
      return "database migrations failed validation: "
          + (details.isEmpty() ? firstLine(e.getMessage()) : details);
    }
    String migration = "a migration";
    Matcher matcher = MIGRATION_NAME.matcher(String.valueOf(e.getMessage()));
    if (e instanceof FlywayMigrateException failed && failed.getMigration() != null) {
      migration = failed.getMigration().getScript();
    } else if (matcher.find()) {
      migration = matcher.group(1);
    }
    String error =
        Throwables.find(e, SQLException.class)
            .map(SQLException::getMessage)
            .orElseGet(() -> firstLine(e.getMessage()));
    return "database migration " + migration + " failed: " + firstLine(error);
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "unknown error";
    }
    String trimmed = text.strip();
    int newline = trimmed.indexOf('\n');
    return newline < 0 ? trimmed : trimmed.substring(0, newline).strip();
  }

  private static String rootMessage(Throwable error) {
    return firstLine(Throwables.root(error).getMessage());
  }

  static String redact(String jdbcUrl) {
    return jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1****");
  }
}
