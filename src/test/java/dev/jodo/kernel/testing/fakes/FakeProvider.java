package dev.jodo.kernel.testing.fakes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A real HTTP server on 127.0.0.1 speaking one provider's wire protocol (OpenAI, Anthropic or
 * Ollama), validating requests as the real service does and answering from a script.
 *
 * <pre>{@code
 * try (FakeProvider claude = FakeProvider.anthropic("sk-test").reply("hi").failWith(529, 1)) {
 *   ... point a provider's base_url at claude.baseUrl() ...
 *   assertThat(claude.requests()).hasSize(2);
 * }
 * }</pre>
 */
public final class FakeProvider implements AutoCloseable {

  /** One request as the fake saw it; header names are lower-case. */
  public record Received(String method, String path, Map<String, String> headers, JsonNode body) {}

  /** How one protocol answers; implementations validate like the real service. */
  interface Protocol {
    void answer(FakeExchange exchange) throws IOException;

    /** An error response in the provider's own shape. */
    void error(FakeExchange exchange, int status, String message) throws IOException;
  }

  private final String kind;
  private final Protocol protocol;
  private final ObjectMapper mapper = new ObjectMapper();
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpServer server;
  private final List<Received> requests = new CopyOnWriteArrayList<>();
  private final Set<String> modelsSeen = new TreeSet<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final AtomicInteger streamsAbortedByClient = new AtomicInteger();
  private Script.Draft draft;
  private final Deque<Script.ScriptedToolCall> toolCallsOnce = new ArrayDeque<>();
  private int failStatus;
  private int failuresLeft;

  private FakeProvider(String kind, Function<FakeProvider, Protocol> protocol) {
    this.kind = kind;
    this.draft = new Script.Draft(kind);
    this.protocol = protocol.apply(this);
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the fake " + kind + " provider", e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  public static FakeProvider openAi() {
    return openAi(null);
  }

  /** Requires {@code Authorization: Bearer <expectedKey>} (a null key: no header needed). */
  public static FakeProvider openAi(String expectedKey) {
    return new FakeProvider("openai", fake -> new OpenAiFake(fake, expectedKey));
  }

  public static FakeProvider anthropic() {
    return anthropic(null);
  }

  /** Requires {@code x-api-key: <expectedKey>} (a null key: any non-empty key). */
  public static FakeProvider anthropic(String expectedKey) {
    return new FakeProvider("anthropic", fake -> new AnthropicFake(expectedKey));
  }

  public static FakeProvider ollama() {
    return new FakeProvider("ollama", OllamaFake::new);
  }

  public String baseUrl() {
    String root = "http://127.0.0.1:" + server.getAddress().getPort();
    return kind.equals("openai") ? root + "/v1" : root;
  }

  public synchronized FakeProvider reply(String content) {
    draft.reply = Objects.requireNonNull(content);
    return this;
  }

  public synchronized FakeProvider usage(int inputTokens, int outputTokens) {
    draft.fixedInputTokens = inputTokens;
    draft.fixedOutputTokens = outputTokens;
    return this;
  }

  public synchronized FakeProvider reportUsage(boolean report) {
    draft.reportUsage = report;
    return this;
  }

  public synchronized FakeProvider toolCall(String id, String name, String argumentsJson) {
    draft.toolCall = new Script.ScriptedToolCall(id, name, argumentsJson);
    return this;
  }

  /** The next request (after any queued before it) calls this tool; later ones answer as set. */
  public synchronized FakeProvider toolCallOnce(String id, String name, String argumentsJson) {
    toolCallsOnce.add(new Script.ScriptedToolCall(id, name, argumentsJson));
    return this;
  }

  /** The next {@code times} requests (-1: all) fail with {@code status}; 429 adds Retry-After. */
  public synchronized FakeProvider failWith(int status, int times) {
    failStatus = status;
    failuresLeft = times;
    return this;
  }

  public synchronized FakeProvider delay(Duration delay) {
    draft.delay = Objects.requireNonNull(delay);
    return this;
  }

  public synchronized FakeProvider chunkDelay(Duration delay) {
    draft.chunkDelay = Objects.requireNonNull(delay);
    return this;
  }

  public synchronized FakeProvider streamChunks(List<String> pieces) {
    draft.streamChunks = List.copyOf(pieces);
    return this;
  }

  /** Drops the connection after {@code chunks} streamed chunks, before the final event. */
  public synchronized FakeProvider dropStreamAfter(int chunks) {
    draft.dropStreamAfter = chunks;
    return this;
  }

  public synchronized FakeProvider embeddingDimensions(int dims) {
    draft.embeddingDimensions = dims;
    return this;
  }

  public List<Received> requests() {
    return List.copyOf(requests);
  }

  public int streamsAbortedByClient() {
    return streamsAbortedByClient.get();
  }

  public int inFlight() {
    return inFlight.get();
  }

  public int maxInFlight() {
    return maxInFlight.get();
  }

  public synchronized void reset() {
    draft = new Script.Draft(kind);
    toolCallsOnce.clear();
    failStatus = 0;
    failuresLeft = 0;
    requests.clear();
    modelsSeen.clear();
    streamsAbortedByClient.set(0);
    maxInFlight.set(inFlight.get());
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** Models named in chat and embedding requests so far, sorted. */
  synchronized Set<String> modelsSeen() {
    return new TreeSet<>(modelsSeen);
  }

  private synchronized void sawModel(JsonNode body) {
    if (body.path("model").isTextual()) {
      modelsSeen.add(body.path("model").asText());
    }
  }

  /** The status to fail this request with, or 0. */
  private synchronized int nextFailure() {
    if (failuresLeft == 0) {
      return 0;
    }
    if (failuresLeft > 0) {
      failuresLeft--;
    }
    return failStatus;
  }

  private synchronized Script script() {
    Script.ScriptedToolCall once = toolCallsOnce.poll();
    if (once == null) {
      return draft.freeze();
    }
    Script.ScriptedToolCall usual = draft.toolCall;
    draft.toolCall = once;
    try {
      return draft.freeze();
    } finally {
      draft.toolCall = usual;
    }
  }

  private void handle(HttpExchange raw) throws IOException {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    boolean dropped = false;
    try {
      Script current = script();
      byte[] bytes = raw.getRequestBody().readAllBytes();
      JsonNode body = MissingNode.getInstance();
      boolean badJson = false;
      if (bytes.length > 0) {
        try {
          body = mapper.readTree(bytes);
        } catch (IOException e) {
          badJson = true;
        }
      }
      requests.add(
          new Received(raw.getRequestMethod(), raw.getRequestURI().getPath(), headers(raw), body));
      sawModel(body);
      FakeExchange.pause(current.delay());
      FakeExchange exchange =
          new FakeExchange(raw, body, current, mapper, streamsAbortedByClient::incrementAndGet);
      int failure = nextFailure();
      if (failure != 0) {
        protocol.error(exchange, failure, FakeExchange.injectedMessage(failure));
      } else if (badJson) {
        protocol.error(exchange, 400, "the request body is not valid JSON");
      } else {
        protocol.answer(exchange);
      }
    } catch (FakeExchange.DroppedConnection e) {
      dropped = true;
      throw e;
    } catch (IOException e) {
      // The client went away (counted already if it was mid-stream).
    } finally {
      inFlight.decrementAndGet();
      if (!dropped) {
        raw.close();
      }
    }
  }

  private static Map<String, String> headers(HttpExchange raw) {
    Map<String, String> headers = new LinkedHashMap<>();
    raw.getRequestHeaders()
        .forEach(
            (name, values) ->
                headers.put(name.toLowerCase(Locale.ROOT), values.isEmpty() ? "" : values.get(0)));
    return Map.copyOf(headers);
  }
}
