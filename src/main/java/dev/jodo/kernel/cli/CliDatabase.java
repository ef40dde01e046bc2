package dev.jodo.kernel.cli;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.platform.db.PrivatePostgres;
import java.io.PrintWriter;

/**
 * The database for a command that runs without a kernel (e.g. {@code jodo token --rotate}). Starts
 * the private Postgres if needed, and stops it again afterwards only if it started it.
 */
final class CliDatabase implements AutoCloseable {
  private final Database database;
  private final PrivatePostgres postgres;

  private CliDatabase(Database database, PrivatePostgres postgres) {
    this.database = database;
    this.postgres = postgres;
  }

  static CliDatabase open(KernelConfig config, PrintWriter out) {
    PrivatePostgres postgres = null;
    DatabaseTarget.External target;
    switch (config.database()) {
      case DatabaseTarget.External external -> target = external;
      case DatabaseTarget.Private local -> {
        postgres = PrivatePostgres.start(config.home(), local, out::println);
        target = postgres.target();
      }
    }
    try {
      Database database = Database.open(target, null, "cli");
      database.migrate(Database.KERNEL_MIGRATIONS);
      return new CliDatabase(database, postgres);
    } catch (RuntimeException e) {
      if (postgres != null) {
        postgres.close();
      }
      throw e;
    }
  }

  Database database() {
    return database;
  }

  @Override
  public void close() {
    database.close();
    if (postgres != null) {
      postgres.close();
    }
  }
}
