package dev.jodo.kernel.platform.db;

/**
 * The private PostgreSQL cluster could not be provisioned, started or stopped; the message says
 * what failed, the tail of the command's output and the fix. It never contains the password.
 */
public final class LocalPostgresException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  LocalPostgresException(String message) {
    super(message);
  }

  LocalPostgresException(String message, Throwable cause) {
    super(message, cause);
  }
}
