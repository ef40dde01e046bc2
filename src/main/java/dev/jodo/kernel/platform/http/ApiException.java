package dev.jodo.kernel.platform.http;

import java.time.Duration;
import java.util.Optional;

/**
 * An error a client caused or must know about, rendered as {@code
 * {"error":{"code":"...","message":"..."}}} with its status by {@link HttpServer}. Handlers throw
 * these and never set error statuses themselves.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;
  private final transient Optional<Duration> retryAfter;

  public ApiException(int status, String code, String message) {
    this(status, code, message, Optional.empty());
  }

  private ApiException(int status, String code, String message, Optional<Duration> retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public Optional<Duration> retryAfter() {
    return retryAfter;
  }

  /** 400 naming the field: {@code invalidField("limit", "must be from 1 to 100")}. */
  public static ApiException invalidField(String field, String problem) {
    return new ApiException(400, "invalid_request", field + ": " + problem);
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, "invalid_request", message);
  }

  public static ApiException unauthorized(String message) {
    return new ApiException(401, "unauthorized", message);
  }

  public static ApiException forbidden(String message) {
    return new ApiException(403, "forbidden", message);
  }

  public static ApiException notFound(String message) {
    return new ApiException(404, "not_found", message);
  }

  public static ApiException conflict(String message) {
    return new ApiException(409, "conflict", message);
  }

  public static ApiException tooManyRequests(String code, String message, Duration retryAfter) {
    return new ApiException(429, code, message, Optional.of(retryAfter));
  }

  public static ApiException unavailable(String code, String message) {
    return new ApiException(503, code, message);
  }

  /** 503 that tells the client when to try again. */
  public static ApiException unavailableRetry(String code, String message, Duration retryAfter) {
    return new ApiException(503, code, message, Optional.of(retryAfter));
  }
}
