package dev.jodo.kernel.platform.db;

/** A migration failed; the message names the file and Postgres's error. */
public final class MigrationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  MigrationException(String message, Throwable cause) {
    super(message, cause);
  }
}
