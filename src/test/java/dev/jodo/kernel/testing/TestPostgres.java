package dev.jodo.kernel.testing;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.db.PrivatePostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Postgres server the tests use: {@code JODO_TEST_DATABASE_URL} when set, otherwise a private
 * cluster under {@code target/test-postgres}, provisioned exactly as {@code jodo up} does. Every
 * test class asks for its own fresh database and drops it afterwards.
 */
public final class TestPostgres {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static DatabaseTarget.External server;

  private TestPostgres() {}

  /** A new, empty database named after the test class. */
  public static DatabaseTarget.External freshDatabase(Class<?> testClass) {
    DatabaseTarget.External base = server();
    String name =
        ("jt_"
                + testClass.getSimpleName().toLowerCase(Locale.ROOT)
                + "_"
                + ProcessHandle.current().pid()
                + "_"
                + COUNTER.incrementAndGet())
            .replaceAll("[^a-z0-9_]", "_");
    execute(base, "CREATE DATABASE " + name);
    return base.withDatabaseName(name);
  }

  public static void drop(DatabaseTarget.External database) {
    String name = database.jdbcUrl().replaceFirst("^jdbc:postgresql://[^/]+/([^?]*).*$", "$1");
    execute(server(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  }

  private static synchronized DatabaseTarget.External server() {
    if (server == null) {
      String url = System.getenv("JODO_TEST_DATABASE_URL");
      if (url != null && !url.isBlank()) {
        server = DatabaseTarget.External.parse(url, 5);
      } else {
        // One cluster per test JVM, so parallel runs (surefire, failsafe, a developer's second
        // terminal) never stop each other's server; clusters of dead JVMs are cleaned up here.
        Path root = Path.of("target", "test-postgres").toAbsolutePath();
        removeOrphans(root);
        Path home = root.resolve(Long.toString(ProcessHandle.current().pid()));
        PrivatePostgres postgres =
            PrivatePostgres.start(
                home,
                new DatabaseTarget.Private(5),
                line -> System.err.println("[test-postgres] " + line));
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
                      Path data = PrivatePostgres.dataRoot(home);
                      postgres.close();
                      deleteTree(data);
                      deleteTree(home);
                    },
                    "test-postgres-stop"));
        server = postgres.target();
      }
    }
    return server;
  }

  private static void removeOrphans(Path root) {
    if (!java.nio.file.Files.isDirectory(root)) {
      return;
    }
    try (var homes = java.nio.file.Files.list(root)) {
      for (Path home : homes.toList()) {
        long pid;
        try {
          pid = Long.parseLong(home.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        Path data = PrivatePostgres.dataRoot(home);
        PrivatePostgres.stopIfRunning(home, line -> {});
        deleteTree(data);
        deleteTree(home);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path dir) {
    if (!java.nio.file.Files.exists(dir)) {
      return;
    }
    try (var paths = java.nio.file.Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException e) {
      // Best effort: the next run removes what is left.
    }
  }

  private static void execute(DatabaseTarget.External target, String sql) {
    Properties props = new Properties();
    if (!target.user().isEmpty()) {
      props.setProperty("user", target.user());
    }
    if (!target.password().value().isEmpty()) {
      props.setProperty("password", target.password().value());
    }
    try (Connection c = DriverManager.getConnection(target.jdbcUrl(), props);
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }
}
