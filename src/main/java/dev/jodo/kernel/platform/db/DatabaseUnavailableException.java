package dev.jodo.kernel.platform.db;

/** The configured server cannot be reached; the message names the URL (password masked). */
public final class DatabaseUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  DatabaseUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
