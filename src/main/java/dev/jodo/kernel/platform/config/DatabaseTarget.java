package dev.jodo.kernel.platform.config;

/** Which Postgres the kernel uses: a configured server, or a private one it provisions itself. */
public sealed interface DatabaseTarget {
  int maxPoolSize();

  /** A server given by {@code JODO_DATABASE_URL} or the {@code database:} section. */
  record External(String jdbcUrl, String user, Secret password, int maxPoolSize)
      implements DatabaseTarget {}

  /** No server configured: a private cluster under {@code JODO_HOME/postgres}. */
  record Private(int maxPoolSize) implements DatabaseTarget {}
}
