package dev.jodo.kernel.platform.auth;

/** A token request that cannot be honoured; the message names the field and the fix. */
public final class TokenException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TokenException(String message) {
    super(message);
  }
}
