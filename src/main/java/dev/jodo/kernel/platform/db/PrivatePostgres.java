package dev.jodo.kernel.platform.db;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.Secret;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The kernel's own Postgres under {@code JODO_HOME/postgres}, used when no server is configured.
 * Closing it stops the server only if this kernel started it; {@link #stopIfRunning} is for {@code
 * jodo down}, which stops it whoever started it.
 */
public final class PrivatePostgres implements AutoCloseable {
  private final LocalPostgres postgres;
  private final LocalPostgres.Connection connection;
  private final int maxPoolSize;

  private PrivatePostgres(LocalPostgres postgres, LocalPostgres.Connection connection, int pool) {
    this.postgres = postgres;
    this.connection = connection;
    this.maxPoolSize = pool;
  }

  public static Path dataRoot(Path home) {
    return home.resolve("postgres");
  }

  public static PrivatePostgres start(
      Path home, DatabaseTarget.Private settings, Consumer<String> progress) {
    LocalPostgres postgres = new LocalPostgres(dataRoot(home), progress);
    return new PrivatePostgres(postgres, postgres.ensureRunning(), settings.maxPoolSize());
  }

  public DatabaseTarget.External target() {
    return new DatabaseTarget.External(
        connection.jdbcUrl(), connection.user(), new Secret(connection.password()), maxPoolSize);
  }

  public boolean startedHere() {
    return connection.startedHere();
  }

  @Override
  public void close() {
    if (connection.startedHere()) {
      postgres.stop();
    }
  }

  /** Stops the private cluster of {@code home} if one is running; true if it was. */
  public static boolean stopIfRunning(Path home, Consumer<String> progress) {
    Path root = dataRoot(home);
    if (!Files.isDirectory(root)) {
      return false;
    }
    return new LocalPostgres(root, progress).stop();
  }
}
