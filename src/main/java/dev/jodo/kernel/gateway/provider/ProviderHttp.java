package dev.jodo.kernel.gateway.provider;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One provider's HTTP plumbing: a single {@link HttpClient}, the request and idle timeouts, and the
 * mapping of every failure to a {@link ProviderException} whose message names the provider, the
 * call and the status, and never the API key.
 */
final class ProviderHttp implements AutoCloseable {
  private static final int MAX_ERROR_BODY = 64 * 1024;

  /** Consumes one line of a streamed body; returns true once the protocol's final event arrived. */
  interface LineHandler {
    boolean onLine(String line) throws ProviderException, StreamAccumulator.ListenerFailed;
  }

  private final String name;
  private final String baseUrl;
  private final Duration timeout;
  private final String apiKey;
  private final ObjectMapper mapper;
  private final ExecutorService executor;
  private final HttpClient client;

  ProviderHttp(ProviderConfig config, ObjectMapper mapper) {
    this.name = config.name();
    String base = config.baseUrl().toString();
    this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.timeout = config.timeout();
    this.apiKey = config.apiKey().map(Secret::value).orElse("");
    this.mapper = mapper;
    this.executor = Executors.newVirtualThreadPerTaskExecutor();
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(config.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(executor)
            .build();
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
    return readJson(call, open(call, post(path, headers, body)));
  }

  JsonNode getJson(String path, Map<String, String> headers) throws ProviderException {
    String call = call("GET", path);
    return readJson(call, open(call, builder(path, headers).GET().build()));
  }

  /**
   * Streams a POST's body line by line on the calling thread. The stream is closed (dropping the
   * connection) before any exception leaves, so an aborted answer stops costing tokens upstream.
   */
  ChatResult stream(
      String path,
      Map<String, String> headers,
      JsonNode body,
      StreamAccumulator accumulator,
      LineHandler handler)
      throws ProviderException {
    String call = call("POST", path);
    InputStream in = open(call, post(path, headers, body)).body();
    IdleWatchdog watchdog = new IdleWatchdog(in, timeout);
    try {
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, UTF_8));
      while (true) {
        watchdog.arm();
        String line = reader.readLine();
        watchdog.disarm();
        if (line == null) {
          throw new ProviderException.ConnectionFailed(
              name + " stream ended before its final event (" + call + ")", null);
        }
        if (handler.onLine(line)) {
          return accumulator.result();
        }
      }
    } catch (IOException e) {
      throw watchdog.fired() ? stalled(call, e) : broken(call, e);
    } catch (StreamAccumulator.ListenerFailed e) {
      throw new ProviderException.Aborted(accumulator.result(), e.getCause());
    } finally {
      watchdog.close();
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

  private HttpRequest post(String path, Map<String, String> headers, JsonNode body)
      throws ProviderException {
    try {
      return builder(path, headers)
          .header("content-type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(body)))
          .build();
    } catch (JsonProcessingException e) {
      throw new ProviderException.Rejected(
          400, name + ": request body is not serializable: " + e.getOriginalMessage());
    }
  }

  private HttpRequest.Builder builder(String path, Map<String, String> headers) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(baseUrl + path));
    headers.forEach(builder::header);
    // Covers connecting and waiting for the response headers; the body is guarded by IdleWatchdog.
    return builder.timeout(timeout);
  }

  private HttpResponse<InputStream> open(String call, HttpRequest request)
      throws ProviderException {
    HttpResponse<InputStream> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (HttpConnectTimeoutException e) {
      throw new ProviderException.TimedOut(
          name + " did not accept a connection for " + call + " within " + millis(), e);
    } catch (HttpTimeoutException e) {
      throw new ProviderException.TimedOut(
          name + " did not answer " + call + " within " + millis(), e);
    } catch (IOException e) {
      URI uri = request.uri();
      String host = uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
      throw new ProviderException.ConnectionFailed(
          redact("%s connection to %s failed for %s: %s".formatted(name, host, call, describe(e))),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProviderException.ConnectionFailed(
          name + " call interrupted while waiting for " + call, e);
    }
    int status = response.statusCode();
    if (status / 100 == 2) {
      return response;
    }
    String body;
    try {
      body = new String(readBody(call, response.body(), MAX_ERROR_BODY), UTF_8);
    } catch (ProviderException unreadable) {
      body = ""; // map the status anyway; the body was only for its message
    }
    String detail = ProviderErrors.detail(mapper, body);
    String message =
        "%s returned HTTP %d for %s%s"
            .formatted(name, status, call, detail.isEmpty() ? "" : ": " + detail);
    throw ProviderErrors.forStatus(
        status,
        redact(message),
        ProviderErrors.retryAfter(response.headers().firstValue("retry-after")));
  }

  private JsonNode readJson(String call, HttpResponse<InputStream> response)
      throws ProviderException {
    byte[] bytes = readBody(call, response.body(), Integer.MAX_VALUE);
    try {
      return mapper.readTree(bytes);
    } catch (IOException e) {
      throw new ProviderException.Unavailable(
          502, name + " answered " + call + " with a body that is not JSON");
    }
  }

  /** Up to {@code limit} bytes of a body, each read guarded by the idle timeout. */
  private byte[] readBody(String call, InputStream in, int limit) throws ProviderException {
    IdleWatchdog watchdog = new IdleWatchdog(in, timeout);
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buffer = new byte[16 * 1024];
      while (out.size() < limit) {
        watchdog.arm();
        int n = in.read(buffer);
        watchdog.disarm();
        if (n < 0) {
          break;
        }
        out.write(buffer, 0, n);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw watchdog.fired() ? stalled(call, e) : broken(call, e);
    } finally {
      watchdog.close();
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

  @Override
  public void close() {
    client.shutdownNow();
    executor.shutdownNow();
  }
}
