package dev.jodo.kernel.platform.config;

/** Which Postgres the kernel uses: a configured server, or a private one it provisions itself. */
public sealed interface DatabaseTarget {
  int maxPoolSize();

  /** A server given by {@code JODO_DATABASE_URL} or the {@code database:} section. */
  record External(String jdbcUrl, String user, Secret password, int maxPoolSize)
      implements DatabaseTarget {

    /** Parses a {@code jdbc:postgresql://} or {@code postgres://} URL; IAE names the problem. */
    public static External parse(String url, int maxPoolSize) {
      return DatabaseUrls.parse(url, maxPoolSize);
    }

    /** The same server and credentials, another database. */
    public External withDatabaseName(String name) {
      return new External(
          jdbcUrl.replaceFirst("^(jdbc:postgresql://[^/]+/)[^?]*", "$1" + name),
          user,
          password,
          maxPoolSize);
    }
  }

  /** No server configured: a private cluster under {@code JODO_HOME/postgres}. */
  record Private(int maxPoolSize) implements DatabaseTarget {}
}
