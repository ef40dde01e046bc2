package dev.jodo.kernel.gateway.provider;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLSocketFactory;

/**
 * One provider's HTTP plumbing: an {@link Http1Client} with its keep-alive pool, the request and
 * idle timeouts, and the mapping of every failure to a {@link ProviderException} whose message
 * names the provider, the call and the status, and never the API key.
 */
final class ProviderHttp implements AutoCloseable {
  private static final int MAX_ERROR_BODY = 64 * 1024;

  /** Consumes one line of a streamed body; returns true once the protocol's final event arrived. */
  interface LineHandler {
    boolean onLine(String line) throws ProviderException, StreamAccumulator.ListenerFailed;
  }

  private final String name;
  private final String baseUrl;
  private final String host;
  private final Duration timeout;
  private final Duration connectTimeout;
  private final String apiKey;
  private final ObjectMapper mapper;
  private final Http1Client client;

  ProviderHttp(ProviderConfig config, ObjectMapper mapper) {
    this.name = config.name();
    URI base = config.baseUrl();
    String text = base.toString();
    this.baseUrl = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
    this.host = base.getHost() + (base.getPort() < 0 ? "" : ":" + base.getPort());
    this.timeout = config.timeout();
    this.connectTimeout = config.connectTimeout();
    this.apiKey = config.apiKey().map(Secret::value).orElse("");
    this.mapper = mapper;
    // The timeout bounds the wait for the response headers and each idle gap in the body.
    this.client =
        new Http1Client(
            base, connectTimeout, timeout, (SSLSocketFactory) SSLSocketFactory.getDefault());
  }

  String name() {
    return name;
  }

  ObjectMapper mapper() {
    return mapper;
  }

  JsonNode postJson(String path, Map<String, String> headers, JsonNode body)
      throws ProviderException {
    String call = call("POST", path);
    return readJson(call, open(call, "POST", path, jsonHeaders(headers), serialize(body)));
  }

  JsonNode getJson(String path, Map<String, String> headers) throws ProviderException {
    String call = call("GET", path);
    return readJson(call, open(call, "GET", path, headers, null));
  }

  /**
   * Streams a POST's body line by line on the calling thread. The stream is closed (dropping the
   * connection unless only its last bytes were left) before any exception leaves, so an aborted
   * answer stops costing tokens upstream.
   */
  ChatResult stream(
      String path,
      Map<String, String> headers,
      JsonNode body,
      StreamAccumulator accumulator,
      LineHandler handler)
      throws ProviderException {
    String call = call("POST", path);
    InputStream in = open(call, "POST", path, jsonHeaders(headers), serialize(body)).body();
    try {
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8));
      while (true) {
        String line = reader.readLine();
        if (line == null) {
          throw new ProviderException.ConnectionFailed(
              name + " stream ended before its final event (" + call + ")", null);
        }
        if (handler.onLine(line)) {
          return accumulator.result();
        }
      }
    } catch (SocketTimeoutException e) {
      throw stalled(call, e);
    } catch (IOException e) {
      throw broken(call, e);
    } catch (StreamAccumulator.ListenerFailed e) {
      throw new ProviderException.Aborted(accumulator.result(), e.getCause());
    } finally {
      closeQuietly(in);
    }
  }

  /** One streamed event or line, which must be a JSON document. */
  JsonNode parseStreamed(String data) throws ProviderException {
    try {
      return mapper.readTree(data);
    } catch (IOException e) {
      throw new ProviderException.Unavailable(
          502,
          name + " streamed an event that is not JSON: " + ProviderErrors.detail(mapper, data));
    }
  }

  /** "POST /v1/chat/completions": the full path shows a doubled or missing {@code /v1}. */
  private String call(String method, String path) {
    return method + " " + URI.create(baseUrl + path).getRawPath();
  }

  /** The request target: the base URL's path prefix, the path and any query. */
  private String target(String path) {
    URI uri = URI.create(baseUrl + path);
    return uri.getRawQuery() == null
        ? uri.getRawPath()
        : uri.getRawPath() + "?" + uri.getRawQuery();
  }

  private static Map<String, String> jsonHeaders(Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.put("content-type", "application/json");
    return all;
  }

  private byte[] serialize(JsonNode body) throws ProviderException {
    try {
      return mapper.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new ProviderException.Rejected(
          400, name + ": request body is not serializable: " + e.getOriginalMessage());
    }
  }

  private Http1Response open(
      String call, String method, String path, Map<String, String> headers, byte[] body)
      throws ProviderException {
    Http1Response response;
    try {
      response = client.send(method, target(path), headers, body);
    } catch (IOException e) {
      throw failed(call, e);
    }
    int status = response.status();
    if (status / 100 == 2) {
      return response;
    }
    String text;
    try {
      text = new String(readBody(call, response.body(), MAX_ERROR_BODY), UTF_8);
    } catch (ProviderException unreadable) {
      text = ""; // map the status anyway; the body was only for its message
    }
    String detail = ProviderErrors.detail(mapper, text);
    String message =
        "%s returned HTTP %d for %s%s"
            .formatted(name, status, call, detail.isEmpty() ? "" : ": " + detail);
    throw ProviderErrors.forStatus(
        status, redact(message), ProviderErrors.retryAfter(response.header("retry-after")));
  }

  /** A failure before the response headers arrived. */
  private ProviderException failed(String call, IOException e) {
    if (Thread.currentThread().isInterrupted()) {
      return new ProviderException.ConnectionFailed(
          name + " call interrupted while waiting for " + call, e);
    }
    String reason = describe(e);
    if (e instanceof Http1Client.ConnectFailure connect) {
      if (connect.timedOut()) {
        return new ProviderException.TimedOut(
            name
                + " did not accept a connection for "
                + call
                + " within "
                + connectTimeout.toMillis()
                + "ms",
            e);
      }
      // "Connection refused" and an unknown host's name only repeat the class and our message.
      Throwable cause = connect.getCause();
      boolean plain = cause instanceof ConnectException || cause instanceof UnknownHostException;
      reason = plain ? cause.getClass().getSimpleName() : describe(cause);
    } else if (e instanceof SocketTimeoutException) {
      return new ProviderException.TimedOut(
          name + " did not answer " + call + " within " + millis(), e);
    }
    return new ProviderException.ConnectionFailed(
        redact("%s connection to %s failed for %s: %s".formatted(name, host, call, reason)), e);
  }

  private JsonNode readJson(String call, Http1Response response) throws ProviderException {
    byte[] bytes = readBody(call, response.body(), contentLength(response), Integer.MAX_VALUE);
    try {
      return mapper.readTree(bytes);
    } catch (IOException e) {
      throw new ProviderException.Unavailable(
          502, name + " answered " + call + " with a body that is not JSON");
    }
  }

  /** The declared body length when it is a sane int, else -1. */
  private static int contentLength(Http1Response response) {
    try {
      long length = response.header("content-length").map(Long::parseLong).orElse(-1L);
      return length >= 0 && length <= Integer.MAX_VALUE - 16 ? (int) length : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private byte[] readBody(String call, InputStream in, int limit) throws ProviderException {
    return readBody(call, in, -1, limit);
  }

  /**
   * Up to {@code limit} bytes of a body, each read bounded by the idle timeout; with a known {@code
   * length} into one exactly sized array, as most answers declare it.
   */
  private byte[] readBody(String call, InputStream in, int length, int limit)
      throws ProviderException {
    try {
      if (length >= 0 && length <= limit) {
        byte[] body = new byte[length];
        int read = in.readNBytes(body, 0, length);
        if (read < length) {
          throw new EOFException("body ended after " + read + " of " + length + " bytes");
        }
        return body;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buffer = new byte[16 * 1024];
      while (out.size() < limit) {
        int n = in.read(buffer);
        if (n < 0) {
          break;
        }
        out.write(buffer, 0, n);
      }
      return out.toByteArray();
    } catch (SocketTimeoutException e) {
      throw stalled(call, e);
    } catch (IOException e) {
      throw broken(call, e);
    } finally {
      closeQuietly(in);
    }
  }

  private ProviderException stalled(String call, IOException cause) {
    return new ProviderException.TimedOut(
        name + " stalled: no data for " + millis() + " while reading " + call, cause);
  }

  private ProviderException broken(String call, IOException cause) {
    return new ProviderException.ConnectionFailed(
        redact(name + " connection broke off while reading " + call + ": " + describe(cause)),
        cause);
  }

  private String millis() {
    return timeout.toMillis() + "ms";
  }

  /** "IOException: closed (EOFException: EOF reached while reading)": the JDK nests the reason. */
  private static String describe(Throwable e) {
    StringBuilder text = new StringBuilder();
    int depth = 0;
    for (Throwable current = e; current != null && depth < 3; current = current.getCause()) {
      if (depth > 0 && current.getMessage() == null) {
        continue; // a bare wrapper ("ConnectException (ClosedChannelException)") says nothing
      }
      text.append(depth++ == 0 ? "" : " (").append(current.getClass().getSimpleName());
      if (current.getMessage() != null) {
        text.append(": ").append(current.getMessage());
      }
    }
    return text.append(")".repeat(depth - 1)).toString();
  }

  /** Belt and braces: nothing we build contains the key, but a provider might echo it back. */
  String redact(String message) {
    return apiKey.isEmpty() ? message : message.replace(apiKey, "****");
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // Closing only drops the connection; nothing to report.
    }
  }

  /** Closes the idle connections; calls in flight finish on theirs, which then close. */
  @Override
  public void close() {
    client.close();
  }
}
