package dev.jodo.kernel.gateway.provider;

import static dev.jodo.kernel.gateway.provider.ClientTestSupport.MAPPER;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.ask;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.client;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.eventually;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.json;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.toolConversation;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.weatherTool;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.withToolsAndStop;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.jodo.kernel.gateway.provider.ClientTestSupport.RecordingListener;
import dev.jodo.kernel.platform.config.ProviderType;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AnthropicClientTest {
  private static final String KEY = "sk-ant-test-0123456789";
  private static final String CHAT = "POST /v1/messages";
  private static final String MODEL = "claude-sonnet-4-20250514";

  private final FakeProvider fake = FakeProvider.anthropic(KEY);
  private final ProviderClient client =
      client("claude", ProviderType.ANTHROPIC, fake.baseUrl(), KEY);

  private final ProviderClient impatient =
      client(
          "claude", ProviderType.ANTHROPIC, fake.baseUrl(), KEY, ClientTestSupport.SHORT_TIMEOUT);

  @AfterEach
  void tearDown() throws Exception {
    ClientTestSupport.close(client);
    ClientTestSupport.close(impatient);
    fake.close();
  }

  @Test
  void chatReturnsTheAnswerWithReportedUsage() throws Exception {
    fake.reply("the answer is forty two");

    ChatResult result = client.chat(ask(MODEL, "what is six times seven"));

    assertThat(result)
        .isEqualTo(
            new ChatResult(
                "the answer is forty two",
                List.of(),
                FinishReason.STOP,
                Optional.of(new Usage(5, 5)),
                MODEL));
    FakeProvider.Received request = fake.requests().get(0);
    assertThat(request.path()).isEqualTo("/v1/messages");
    assertThat(request.headers())
        .containsEntry("x-api-key", KEY)
        .containsEntry("anthropic-version", "2023-06-01")
        .containsEntry("content-type", "application/json");
    assertThat(request.body().path("max_tokens").asInt()).isEqualTo(100);
  }

  @Test
  void systemPromptGoesToTheTopLevelSystemField() throws Exception {
    client.chat(
        ask(
            MODEL,
            "be brief",
            List.of(
                new ChatMessage("system", "use metric units", List.of(), null),
                ChatMessage.user("hi"))));

    var body = fake.requests().get(0).body();
    assertThat(body.path("system").asText()).isEqualTo("be brief\n\nuse metric units");
    assertThat(body.path("messages"))
        .isEqualTo(json("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]"));
  }

  @Test
  void toolConversationBecomesAlternatingTurnsWithToolBlocks() throws Exception {
    ChatRequest request =
        withToolsAndStop(
            ask(MODEL, null, toolConversation()), List.of(weatherTool()), json("\"required\""));

    client.chat(request);

    var body = fake.requests().get(0).body();
    assertThat(body.path("messages"))
        .isEqualTo(
            json(
                """
                [{"role":"user","content":[{"type":"text","text":"weather in Paris and Rome?"}]},
                 {"role":"assistant","content":[
                   {"type":"text","text":"Let me check."},
                   {"type":"tool_use","id":"call_a","name":"get_weather","input":{"city":"Paris"}},
                   {"type":"tool_use","id":"call_b","name":"get_weather","input":{"city":"Rome"}}]},
                 {"role":"user","content":[
                   {"type":"tool_result","tool_use_id":"call_a","content":"sunny"},
                   {"type":"tool_result","tool_use_id":"call_b","content":"rainy"},
                   {"type":"text","text":"thanks"}]}]"""));
    assertThat(body.path("tools"))
        .isEqualTo(
            json(
                """
                [{"name":"get_weather","description":"Current weather for a city",
                  "input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]"""));
    assertThat(body.path("tool_choice")).isEqualTo(json("{\"type\":\"any\"}"));
    assertThat(body.path("stop_sequences")).isEqualTo(json("[\"STOP\"]"));
    assertThat(body.has("stop")).isFalse();
  }

  @Test
  void toolChoiceIsTranslatedFromOpenAiWords() throws Exception {
    AnthropicTranslation translation = new AnthropicTranslation(MAPPER, "claude");

    assertThat(translation.toolChoice(json("\"auto\""))).isEqualTo(json("{\"type\":\"auto\"}"));
    assertThat(translation.toolChoice(json("\"required\""))).isEqualTo(json("{\"type\":\"any\"}"));
    assertThat(translation.toolChoice(json("\"none\""))).isEqualTo(json("{\"type\":\"none\"}"));
    assertThat(
            translation.toolChoice(
                json("{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}")))
        .isEqualTo(json("{\"type\":\"tool\",\"name\":\"get_weather\"}"));
    assertThat(translation.toolChoice(null)).isNull();
    var e =
        catchThrowableOfType(
            ProviderException.Rejected.class, () -> translation.toolChoice(json("\"sometimes\"")));
    assertThat(e)
        .hasMessage("claude cannot express tool_choice \"sometimes\" (use auto, required, none)");
  }

  @Test
  void toolUseAnswerComesBackAsToolCalls() throws Exception {
    fake.toolCall("toolu_01", "get_weather", "{\"city\":\"Oslo\"}");

    ChatResult result = client.chat(ask(MODEL, "weather in Oslo?"));

    assertThat(result.toolCalls())
        .containsExactly(new ToolCall("toolu_01", "get_weather", "{\"city\":\"Oslo\"}"));
    assertThat(result.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
  }

  @Test
  void streamDeliversTextDeltasInOrderAndTheFinalUsage() throws Exception {
    fake.reply("one two three").usage(11, 3);
    RecordingListener listener = new RecordingListener();

    ChatResult result = client.stream(ask(MODEL, "count"), listener);

    assertThat(listener.texts).containsExactly("one ", "two ", "three");
    assertThat(result)
        .isEqualTo(
            new ChatResult(
                "one two three",
                List.of(),
                FinishReason.STOP,
                Optional.of(new Usage(11, 3)),
                MODEL));
    assertThat(fake.requests().get(0).body().path("stream").asBoolean()).isTrue();
  }

  @Test
  void streamDeliversToolCallDeltas() throws Exception {
    fake.toolCall("toolu_07", "get_weather", "{\"city\":\"Lima\"}");
    RecordingListener listener = new RecordingListener();

    ChatResult result = client.stream(ask(MODEL, "weather?"), listener);

    assertThat(listener.toolDeltas)
        .containsExactly(
            "0|toolu_07|get_weather|",
            "0|null|null|{\"cit",
            "0|null|null|y\":\"L",
            "0|null|null|ima\"}");
    assertThat(result.toolCalls())
        .containsExactly(new ToolCall("toolu_07", "get_weather", "{\"city\":\"Lima\"}"));
    assertThat(result.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
  }

  @Test
  void streamNumbersToolCallsAmongToolCallsNotContentBlocks() throws Exception {
    StreamAccumulator accumulator = new StreamAccumulator(new RecordingListener(), MODEL);
    ProviderHttp http =
        new ProviderHttp(
            ClientTestSupport.config(
                "claude", ProviderType.ANTHROPIC, fake.baseUrl(), KEY, Duration.ofSeconds(5)),
            MAPPER);
    SseReader reader = new SseReader(new AnthropicStream(http, accumulator));
    // A text block at index 0, then a tool_use without arguments at index 1.
    String events =
        """
        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}

        event: content_block_start
        data: {"type":"content_block_start","index":1,\
        "content_block":{"type":"tool_use","id":"toolu_1","name":"now","input":{}}}

        event: message_stop
        data: {"type":"message_stop"}

        """;
    boolean finished = false;
    for (String line : events.split("\n", -1)) {
      finished |= reader.onLine(line);
    }

    assertThat(finished).isTrue();
    assertThat(accumulator.result().toolCalls())
        .containsExactly(new ToolCall("toolu_1", "now", "{}"));
    assertThat(accumulator.result().content()).isEqualTo("ok");
    http.close();
  }

  @Test
  void missingUsageLeavesReportedUsageEmpty() throws Exception {
    fake.reportUsage(false);

    assertThat(client.chat(ask(MODEL, "hi")).reportedUsage()).isEmpty();
    assertThat(client.stream(ask(MODEL, "hi"), new RecordingListener()).reportedUsage()).isEmpty();
  }

  @Test
  void rateLimitCarriesRetryAfter() {
    fake.failWith(429, 1);

    var e = catchThrowableOfType(ProviderException.RateLimited.class, this::chat);

    assertThat(e.retryAfter()).contains(Duration.ofSeconds(7));
    assertThat(e)
        .hasMessage("claude returned HTTP 429 for " + CHAT + ": rate limit exceeded (injected)");
  }

  @Test
  void overloadedIsUnavailable() {
    fake.failWith(529, 1);

    var e = catchThrowableOfType(ProviderException.Unavailable.class, this::chat);

    assertThat(e.status()).isEqualTo(529);
    assertThat(e).hasMessage("claude returned HTTP 529 for " + CHAT + ": overloaded (injected)");
  }

  @Test
  void badRequestIsRejectedWithTheProvidersMessage() {
    fake.failWith(400, 1);
    ChatRequest request =
        new ChatRequest(MODEL, null, List.of(ChatMessage.user("hi")), 100, 0.5, null, null, null);

    var e = catchThrowableOfType(ProviderException.Rejected.class, () -> client.chat(request));

    assertThat(e.status()).isEqualTo(400);
    assertThat(e)
        .hasMessage("claude returned HTTP 400 for " + CHAT + ": invalid request (injected)");
  }

  @Test
  void temperatureAboveAnthropicsRangeIsClamped() throws Exception {
    ChatRequest hot =
        new ChatRequest(MODEL, null, List.of(ChatMessage.user("hi")), 100, 1.5, null, null, null);

    client.chat(hot);

    assertThat(fake.requests().get(0).body().path("temperature").asDouble()).isEqualTo(1.0);
  }

  @Test
  void missingKeyIsUnavailableNotRejected() throws Exception {
    ProviderClient keyless = client("claude", ProviderType.ANTHROPIC, fake.baseUrl(), null);

    var e = catchThrowableOfType(ProviderException.Unavailable.class, () -> chat(keyless));

    assertThat(e.status()).isEqualTo(401);
    assertThat(e)
        .hasMessage("claude returned HTTP 401 for " + CHAT + ": x-api-key header is required");
    ClientTestSupport.close(keyless);
  }

  @Test
  void slowAnswerTimesOut() {
    fake.delay(Duration.ofSeconds(1));

    var e = catchThrowableOfType(ProviderException.TimedOut.class, () -> chat(impatient));

    assertThat(e).hasMessage("claude did not answer " + CHAT + " within 300ms");
  }

  @Test
  void stalledStreamTimesOut() {
    fake.chunkDelay(Duration.ofSeconds(1));

    var e = catchThrowableOfType(ProviderException.TimedOut.class, () -> stream(impatient));

    assertThat(e).hasMessage("claude stalled: no data for 300ms while reading " + CHAT);
  }

  @Test
  void refusedConnectionFails() throws Exception {
    ProviderClient nowhere =
        client("claude", ProviderType.ANTHROPIC, ClientTestSupport.refusingUrl(), KEY);

    var e = catchThrowableOfType(ProviderException.ConnectionFailed.class, () -> chat(nowhere));

    assertThat(e)
        .hasMessageMatching(
            "claude connection to 127\\.0\\.0\\.1:\\d+ failed for " + CHAT + ": ConnectException");
    ClientTestSupport.close(nowhere);
  }

  @Test
  void droppedStreamFails() {
    fake.dropStreamAfter(3);

    var e = catchThrowableOfType(ProviderException.ConnectionFailed.class, this::stream);

    assertThat(e).hasMessageStartingWith("claude connection broke off while reading " + CHAT);
  }

  @Test
  void throwingListenerAbortsTheUpstreamAndKeepsThePartialAnswer() {
    fake.reply("a b c d e f g h i j k l m n o p").chunkDelay(Duration.ofMillis(20));

    var e =
        catchThrowableOfType(
            ProviderException.Aborted.class,
            () -> client.stream(ask(MODEL, "letters"), new RecordingListener(2)));

    assertThat(e.partial().content()).isEqualTo("a b ");
    assertThat(eventually(() -> fake.streamsAbortedByClient() == 1, Duration.ofSeconds(2)))
        .isTrue();
  }

  @Test
  void embeddingsAreRejectedWithAHint() {
    var e =
        catchThrowableOfType(
            ProviderException.Rejected.class, () -> client.embed(MODEL, List.of("hello")));

    assertThat(e).hasMessage("anthropic has no embeddings API; route embed to openai or ollama");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void apiKeyNeverAppearsInAnError() throws Exception {
    List<Exception> errors = new ArrayList<>();
    try (FakeProvider other = FakeProvider.anthropic("sk-ant-other")) {
      ProviderClient wrongKey = client("claude", ProviderType.ANTHROPIC, other.baseUrl(), KEY);
      errors.add(catchThrowableOfType(ProviderException.Unavailable.class, () -> chat(wrongKey)));
      ClientTestSupport.close(wrongKey);
    }
    for (int status : new int[] {400, 429, 500, 529}) {
      fake.failWith(status, 1);
      errors.add(catchThrowableOfType(ProviderException.class, this::chat));
    }
    fake.failWith(0, 0).chunkDelay(Duration.ofSeconds(1));
    errors.add(catchThrowableOfType(ProviderException.TimedOut.class, () -> stream(impatient)));

    assertThat(errors).hasSize(6).doesNotContainNull();
    assertThat(errors).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(KEY));
    assertThat(errors.get(0))
        .hasMessage("claude returned HTTP 401 for " + CHAT + ": invalid x-api-key");
  }

  private void chat() throws ProviderException {
    chat(client);
  }

  private static void chat(ProviderClient target) throws ProviderException {
    target.chat(ask(MODEL, "hi"));
  }

  private void stream() throws ProviderException {
    stream(client);
  }

  private static void stream(ProviderClient target) throws ProviderException {
    target.stream(ask(MODEL, "hi"), new RecordingListener());
  }
}
