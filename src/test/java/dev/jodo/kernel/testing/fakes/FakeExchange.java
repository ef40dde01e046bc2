package dev.jodo.kernel.testing.fakes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** One request to a fake: its parsed body and script, and the ways to answer it. */
final class FakeExchange {

  /** Thrown to make the HTTP server drop the connection without finishing the response. */
  static final class DroppedConnection extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DroppedConnection() {
      super("fake provider dropped the connection on purpose");
    }
  }

  /** Writing a streamed chunk failed: the client disconnected. */
  static final class ClientGone extends IOException {
    private static final long serialVersionUID = 1L;

    ClientGone(IOException cause) {
      super("client disconnected mid-stream", cause);
    }
  }

  private final HttpExchange raw;
  private final JsonNode body;
  private final Script script;
  private final ObjectMapper mapper;
  private final Runnable onClientGone;

  FakeExchange(
      HttpExchange raw, JsonNode body, Script script, ObjectMapper mapper, Runnable onClientGone) {
    this.raw = raw;
    this.body = body;
    this.script = script;
    this.mapper = mapper;
    this.onClientGone = onClientGone;
  }

  String method() {
    return raw.getRequestMethod();
  }

  String path() {
    return raw.getRequestURI().getPath();
  }

  /** The request header, or null. */
  String header(String name) {
    return raw.getRequestHeaders().getFirst(name);
  }

  /** The parsed request body (a missing node when the request had none). */
  JsonNode body() {
    return body;
  }

  Script script() {
    return script;
  }

  ObjectMapper mapper() {
    return mapper;
  }

  void json(int status, JsonNode json) throws IOException {
    send(status, "application/json", mapper.writeValueAsString(json));
  }

  void send(int status, String contentType, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    raw.getResponseHeaders().set("content-type", contentType);
    if (status == 429) {
      raw.getResponseHeaders().set("retry-after", "7");
    }
    raw.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = raw.getResponseBody()) {
      out.write(bytes);
    }
  }

  Stream stream(String contentType) throws IOException {
    raw.getResponseHeaders().set("content-type", contentType);
    raw.getResponseHeaders().set("cache-control", "no-cache");
    raw.sendResponseHeaders(200, 0);
    return new Stream(raw.getResponseBody());
  }

  /** A chunked response written piece by piece, honouring chunkDelay and dropStreamAfter. */
  final class Stream {
    private final OutputStream out;
    private int written;

    private Stream(OutputStream out) {
      this.out = out;
    }

    void chunk(String text) throws IOException {
      if (script.dropStreamAfter() >= 0 && written >= script.dropStreamAfter()) {
        throw new DroppedConnection();
      }
      if (written > 0) {
        pause(script.chunkDelay());
      }
      try {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
      } catch (IOException e) {
        onClientGone.run();
        throw new ClientGone(e);
      }
      written++;
    }

    void json(JsonNode json, String prefix, String suffix) throws IOException {
      chunk(prefix + mapper.writeValueAsString(json) + suffix);
    }
  }

  static void pause(Duration duration) {
    if (duration.isZero()) {
      return;
    }
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      // The fake is closing: give up on this request.
      Thread.currentThread().interrupt();
      throw new DroppedConnection();
    }
  }

  /** The plain message a fake puts in its error body for an injected status. */
  static String injectedMessage(int status) {
    String what =
        switch (status) {
          case 400 -> "invalid request";
          case 401 -> "invalid api key";
          case 403 -> "permission denied";
          case 404 -> "model not found";
          case 413 -> "request too large";
          case 422 -> "unprocessable request";
          case 429 -> "rate limit exceeded";
          case 500 -> "internal server error";
          case 502, 503, 504 -> "upstream unavailable";
          case 529 -> "overloaded";
          default -> "HTTP " + status;
        };
    return what + " (injected)";
  }
}
