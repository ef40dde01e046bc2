package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Optional;

/** Turns a provider's HTTP error into the {@link ProviderException} the gateway routes on. */
final class ProviderErrors {
  private static final int MAX_DETAIL = 300;

  private ProviderErrors() {}

  /**
   * 429 is a rate limit; 400/413/422 refuse the request itself (another provider would too);
   * anything else (5xx, 401/403/404 for a wrong key or model, 402 for exhausted credit) means this
   * provider cannot serve now and the gateway should try the next one.
   */
  static ProviderException forStatus(int status, String message, Optional<Duration> retryAfter) {
    return switch (status) {
      case 429 -> new ProviderException.RateLimited(message, retryAfter);
      case 400, 413, 422 -> new ProviderException.Rejected(status, message);
      default -> new ProviderException.Unavailable(status, message);
    };
  }

  /**
   * The human-readable part of an error body in any of the three dialects: OpenAI {@code
   * {"error":{"message"}}}, Anthropic {@code {"type":"error","error":{"message"}}}, Ollama {@code
   * {"error":"..."}}, FastAPI-style {@code {"detail":"..."}}; otherwise the body's text, cut short.
   */
  static String detail(ObjectMapper mapper, String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    try {
      JsonNode json = mapper.readTree(body);
      JsonNode error = json.path("error");
      if (error.isTextual()) {
        return error.asText();
      }
      for (JsonNode candidate :
          new JsonNode[] {error.path("message"), json.path("message"), json.path("detail")}) {
        if (candidate.isTextual()) {
          return candidate.asText();
        }
      }
    } catch (IOException notJson) {
      // Fall through to the raw text: an HTML page from a proxy, a plain-text error.
    }
    String text = body.strip().replaceAll("\\s+", " ");
    return text.length() <= MAX_DETAIL ? text : text.substring(0, MAX_DETAIL) + "...";
  }

  /** {@code Retry-After} in delta-seconds (an HTTP date is ignored: no clock to compare with). */
  static Optional<Duration> retryAfter(Optional<String> header) {
    return header.flatMap(
        value -> {
          try {
            BigDecimal seconds = new BigDecimal(value.strip());
            if (seconds.signum() < 0) {
              return Optional.empty();
            }
            return Optional.of(Duration.ofMillis(seconds.movePointRight(3).longValue()));
          } catch (NumberFormatException notSeconds) {
            return Optional.empty();
          }
        });
  }

  /** The status Anthropic uses for each error {@code type}, for errors that arrive mid-stream. */
  static int anthropicStatus(String errorType) {
    return switch (errorType) {
      case "invalid_request_error" -> 400;
      case "authentication_error" -> 401;
      case "permission_error" -> 403;
      case "not_found_error" -> 404;
      case "request_too_large" -> 413;
      case "rate_limit_error" -> 429;
      case "overloaded_error" -> 529;
      default -> 500;
    };
  }
}
