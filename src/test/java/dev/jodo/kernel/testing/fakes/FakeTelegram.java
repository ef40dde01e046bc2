package dev.jodo.kernel.testing.fakes;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A fake Telegram Bot API on 127.0.0.1, over real HTTP: {@code getUpdates} (offset and long-poll
 * timeout as Telegram has them) and {@code sendMessage}, under {@code /bot<token>/}. A request with
 * another token gets Telegram's 401.
 */
public final class FakeTelegram implements AutoCloseable {
  /** A message the bot sent. */
  public record Sent(long chatId, String text) {}

  private final ObjectMapper mapper = new ObjectMapper();
  private final HttpServer server;
  private final String token;
  private final List<ObjectNode> updates = new ArrayList<>();
  private final List<Sent> sent = new CopyOnWriteArrayList<>();
  private final List<Long> offsetsAsked = new CopyOnWriteArrayList<>();

  public FakeTelegram(String token) {
    this.token = token;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
  }

  /** What JODO_TELEGRAM_API_URL should be. */
  public String apiUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Queues a text message from {@code userId} in chat {@code chatId} of {@code chatType}. */
  public synchronized ObjectNode message(
      int updateId, long chatId, String chatType, long userId, String text) {
    ObjectNode update = mapper.createObjectNode();
    update.put("update_id", updateId);
    ObjectNode message = update.putObject("message");
    message.put("message_id", updateId * 10);
    message.put("date", 1_700_000_000);
    message.put("text", text);
    ObjectNode chat = message.putObject("chat");
    chat.put("id", chatId);
    chat.put("type", chatType);
    ObjectNode from = message.putObject("from");
    from.put("id", userId);
    from.put("is_bot", false);
    from.put("first_name", "Ada");
    updates.add(update);
    notifyAll();
    return update;
  }

  public List<Sent> sent() {
    return List.copyOf(sent);
  }

  public List<Long> offsetsAsked() {
    return List.copyOf(offsetsAsked);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      String prefix = "/bot" + token + "/";
      if (!path.startsWith(prefix)) {
        respond(
            exchange, 401, "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}");
        return;
      }
      Map<String, String> params = params(exchange);
      switch (path.substring(prefix.length())) {
        case "getUpdates" -> respond(exchange, 200, updates(params));
        case "sendMessage" -> {
          sent.add(new Sent(Long.parseLong(params.get("chat_id")), params.get("text")));
          respond(
              exchange,
              200,
              "{\"ok\":true,\"result\":{\"message_id\":1,\"date\":1700000000,"
                  + "\"chat\":{\"id\":"
                  + params.get("chat_id")
                  + ",\"type\":\"private\"}}}");
        }
        default ->
            respond(
                exchange, 404, "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String updates(Map<String, String> params) throws InterruptedException {
    long offset = Long.parseLong(params.getOrDefault("offset", "0"));
    int timeout = Integer.parseInt(params.getOrDefault("timeout", "0"));
    offsetsAsked.add(offset);
    long deadline = System.currentTimeMillis() + timeout * 1000L;
    synchronized (this) {
      while (true) {
        ArrayNode result = mapper.createArrayNode();
        for (ObjectNode update : updates) {
          if (update.path("update_id").asLong() >= offset) {
            result.add(update);
          }
        }
        long left = deadline - System.currentTimeMillis();
        if (!result.isEmpty() || left <= 0) {
          ObjectNode body = mapper.createObjectNode();
          body.put("ok", true);
          body.set("result", result);
          return body.toString();
        }
        wait(left);
      }
    }
  }

  private static Map<String, String> params(HttpExchange exchange) throws IOException {
    Map<String, String> params = new HashMap<>();
    String query = exchange.getRequestURI().getRawQuery();
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    for (String source : new String[] {query, body}) {
      if (source == null || source.isEmpty()) {
        continue;
      }
      for (String pair : source.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          params.put(
              URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
    }
    return params;
  }

  private static void respond(HttpExchange exchange, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
