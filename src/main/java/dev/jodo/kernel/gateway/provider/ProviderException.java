package dev.jodo.kernel.gateway.provider;

import java.time.Duration;
import java.util.Optional;

/**
 * Why a provider call failed. {@link #retryable()} failures (429, 5xx, timeout, connection failure,
 * and a provider that refuses our credentials) send the gateway on to the next candidate; {@link
 * Rejected} is the caller's request being refused and goes back to the caller.
 */
public abstract sealed class ProviderException extends Exception {
  private static final long serialVersionUID = 1L;

  private ProviderException(String message, Throwable cause) {
    super(message, cause);
  }

  public abstract boolean retryable();

  /** HTTP 429 from the provider. */
  public static final class RateLimited extends ProviderException {
    private static final long serialVersionUID = 1L;
    private final transient Optional<Duration> retryAfter;

    public RateLimited(String message, Optional<Duration> retryAfter) {
      super(message, null);
      this.retryAfter = retryAfter;
    }

    public Optional<Duration> retryAfter() {
      return retryAfter;
    }

    @Override
    public boolean retryable() {
      return true;
    }
  }

  /** 5xx, or 401/403/404 (our key or model is wrong there): the provider cannot serve now. */
  public static final class Unavailable extends ProviderException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public Unavailable(int status, String message) {
      super(message, null);
      this.status = status;
    }

    public int status() {
      return status;
    }

    @Override
    public boolean retryable() {
      return true;
    }
  }

  /** No answer within the provider's timeout. */
  public static final class TimedOut extends ProviderException {
    private static final long serialVersionUID = 1L;

    public TimedOut(String message, Throwable cause) {
      super(message, cause);
    }

    @Override
    public boolean retryable() {
      return true;
    }
  }

  /** Connection refused, reset, DNS failure, or a stream that broke off. */
  public static final class ConnectionFailed extends ProviderException {
    private static final long serialVersionUID = 1L;

    public ConnectionFailed(String message, Throwable cause) {
      super(message, cause);
    }

    @Override
    public boolean retryable() {
      return true;
    }
  }

  /** 400/413/422: the provider refused the request itself; another provider would too. */
  public static final class Rejected extends ProviderException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public Rejected(int status, String message) {
      super(message, null);
      this.status = status;
    }

    public int status() {
      return status;
    }

    @Override
    public boolean retryable() {
      return false;
    }
  }

  /** The stream listener threw (our client disconnected); carries what had arrived so far. */
  public static final class Aborted extends ProviderException {
    private static final long serialVersionUID = 1L;
    private final transient ChatResult partial;

    public Aborted(ChatResult partial, Throwable cause) {
      super("stream aborted by the kernel's client", cause);
      this.partial = partial;
    }

    public ChatResult partial() {
      return partial;
    }

    @Override
    public boolean retryable() {
      return false;
    }
  }
}
