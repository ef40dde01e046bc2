import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal, fast OpenAI-compatible upstream for the gateway benchmark, on 127.0.0.1 only.
 *
 * <p>{@code POST /v1/chat/completions} answers a fixed short completion with {@code usage}; with
 * {@code "stream": true} it sends 8 content chunks back to back (each flushed), a finish chunk, a
 * usage chunk when {@code stream_options.include_usage} is set, then {@code data: [DONE]}. Every
 * answer waits DELAY_MS before its response headers (the model's "time to first byte"); {@code
 * POST /delay?ms=N} changes it for the answers that begin after it (so a benchmark can switch
 * between a slow and an instant model without a cold fake in its measurement).
 *
 * <p>java bench/gateway/FakeUpstream.java PORT DELAY_MS
 */
public class FakeUpstream {
  private static final Pattern MODEL = Pattern.compile("\"model\"\\s*:\\s*\"([^\"\\\\]{1,100})\"");
  private static final Pattern STREAM = Pattern.compile("\"stream\"\\s*:\\s*true");
  private static final Pattern INCLUDE_USAGE = Pattern.compile("\"include_usage\"\\s*:\\s*true");
  private static final String[] WORDS = {"Hello", " there", ",", " this", " is", " a", " benchmark", "."};
  private static final int PROMPT_TOKENS = 14;
  private static final int COMPLETION_TOKENS = WORDS.length;

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: java FakeUpstream.java PORT DELAY_MS");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    AtomicLong delayMs = new AtomicLong(Long.parseLong(args[1]));
    // Before the server classes read them: no Nagle delay on small SSE writes, and enough idle
    // keep-alive connections for 256 concurrent clients (the default keeps 200).
    System.setProperty("sun.net.httpserver.nodelay", "true");
    System.setProperty("sun.net.httpserver.maxIdleConnections", "2048");
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/v1/chat/completions", exchange -> handle(exchange, delayMs.get()));
    server.createContext(
        "/delay",
        exchange -> {
          String query = String.valueOf(exchange.getRequestURI().getQuery());
          if (!"POST".equals(exchange.getRequestMethod()) || !query.matches("ms=\\d{1,7}")) {
            exchange.sendResponseHeaders(400, -1);
          } else {
            delayMs.set(Long.parseLong(query.substring(3)));
            exchange.sendResponseHeaders(204, -1);
          }
          exchange.close();
        });
    server.createContext(
        "/health",
        exchange -> {
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    server.start();
    System.out.println("fake upstream on 127.0.0.1:" + port + ", delay " + delayMs.get() + " ms");
  }

  private static void handle(HttpExchange exchange, long delayMs) throws IOException {
    try (exchange) {
      if (!"POST".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      String body;
      try (InputStream in = exchange.getRequestBody()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      Matcher m = MODEL.matcher(body);
      String model = m.find() ? m.group(1) : "fake-model";
      boolean stream = STREAM.matcher(body).find();
      boolean includeUsage = INCLUDE_USAGE.matcher(body).find();
      if (delayMs > 0) {
        Thread.sleep(delayMs);
      }
      if (stream) {
        stream(exchange, model, includeUsage);
      } else {
        complete(exchange, model);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void complete(HttpExchange exchange, String model) throws IOException {
    String json =
        "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,"
            + "\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"" + String.join("", WORDS) + "\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":" + PROMPT_TOKENS + ",\"completion_tokens\":"
            + COMPLETION_TOKENS + ",\"total_tokens\":" + (PROMPT_TOKENS + COMPLETION_TOKENS) + "}}";
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static void stream(HttpExchange exchange, String model, boolean includeUsage)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    exchange.sendResponseHeaders(200, 0); // chunked
    String head =
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
            + "\"model\":\"" + model + "\",";
    try (OutputStream out = exchange.getResponseBody()) {
      for (int i = 0; i < WORDS.length; i++) {
        String delta =
            i == 0
                ? "{\"role\":\"assistant\",\"content\":\"" + WORDS[i] + "\"}"
                : "{\"content\":\"" + WORDS[i] + "\"}";
        send(out, head + "\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"finish_reason\":null}]}\n\n");
      }
      send(out, head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
      if (includeUsage) {
        send(
            out,
            head + "\"choices\":[],\"usage\":{\"prompt_tokens\":" + PROMPT_TOKENS
                + ",\"completion_tokens\":" + COMPLETION_TOKENS + ",\"total_tokens\":"
                + (PROMPT_TOKENS + COMPLETION_TOKENS) + "}}\n\n");
      }
      send(out, "data: [DONE]\n\n");
    }
  }

  private static void send(OutputStream out, String event) throws IOException {
    out.write(event.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
