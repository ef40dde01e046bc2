package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.config.ProviderType;
import dev.jodo.kernel.platform.config.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/** Configs, requests and a recording listener shared by the provider client tests. */
final class ClientTestSupport {
  static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * For the tests about timeouts; every other call gets a patient client, so load can't fail it.
   */
  static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);

  private static final Duration PATIENT_TIMEOUT = Duration.ofSeconds(5);

  private ClientTestSupport() {}

  static ProviderClient client(String name, ProviderType type, String baseUrl, String key) {
    return client(name, type, baseUrl, key, PATIENT_TIMEOUT);
  }

  static ProviderClient client(
      String name, ProviderType type, String baseUrl, String key, Duration timeout) {
    return ProviderClients.create(config(name, type, baseUrl, key, timeout), MAPPER);
  }

  static ProviderConfig config(
      String name, ProviderType type, String baseUrl, String key, Duration timeout) {
    return new ProviderConfig(
        name,
        type,
        URI.create(baseUrl),
        Optional.ofNullable(key).map(Secret::new),
        Optional.empty(),
        Map.of(),
        BigDecimal.TEN,
        BigDecimal.ONE,
        timeout,
        timeout,
        4);
  }

  static ChatRequest ask(String model, String system, List<ChatMessage> messages) {
    return new ChatRequest(model, system, messages, 100, 0.5, List.of(), null, List.of());
  }

  static ChatRequest ask(String model, String question) {
    return ask(model, null, List.of(ChatMessage.user(question)));
  }

  /** The request with tools, a tool_choice and the stop sequence "STOP". */
  static ChatRequest withToolsAndStop(
      ChatRequest request, List<ToolSpec> tools, JsonNode toolChoice) {
    return new ChatRequest(
        request.model(),
        request.system(),
        request.messages(),
        request.maxTokens(),
        request.temperature(),
        tools,
        toolChoice,
        List.of("STOP"));
  }

  static ToolSpec weatherTool() {
    return new ToolSpec(
        "get_weather",
        "Current weather for a city",
        json("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"));
  }

  /** user → assistant calling two tools → both results → user again. */
  static List<ChatMessage> toolConversation() {
    return List.of(
        ChatMessage.user("weather in Paris and Rome?"),
        new ChatMessage(
            "assistant",
            "Let me check.",
            List.of(
                new ToolCall("call_a", "get_weather", "{\"city\":\"Paris\"}"),
                new ToolCall("call_b", "get_weather", "{\"city\":\"Rome\"}")),
            null),
        ChatMessage.tool("call_a", "sunny"),
        ChatMessage.tool("call_b", "rainy"),
        ChatMessage.user("thanks"));
  }

  static JsonNode json(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A base URL where nothing listens: a port that was free a moment ago. */
  static String refusingUrl() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "http://127.0.0.1:" + socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static boolean eventually(BooleanSupplier condition, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return condition.getAsBoolean();
  }

  static void close(ProviderClient client) throws Exception {
    if (client instanceof AutoCloseable closeable) {
      closeable.close();
    }
  }

  /** Records deltas; throws from {@code onText} on the n-th text delta when asked to. */
  static final class RecordingListener implements StreamListener {
    final List<String> texts = new CopyOnWriteArrayList<>();
    final List<String> toolDeltas = new CopyOnWriteArrayList<>();
    private final int failOnText;

    RecordingListener() {
      this(-1);
    }

    RecordingListener(int failOnText) {
      this.failOnText = failOnText;
    }

    @Override
    public void onText(String delta) throws IOException {
      texts.add(delta);
      if (texts.size() == failOnText) {
        throw new IOException("kernel client went away");
      }
    }

    @Override
    public void onToolCallDelta(int index, String id, String name, String argumentsDelta) {
      toolDeltas.add(index + "|" + id + "|" + name + "|" + argumentsDelta);
    }
  }
}
