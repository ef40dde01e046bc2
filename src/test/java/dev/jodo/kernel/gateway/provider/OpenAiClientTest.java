package dev.jodo.kernel.gateway.provider;

import static dev.jodo.kernel.gateway.provider.ClientTestSupport.ask;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.client;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.eventually;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.json;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.toolConversation;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.weatherTool;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.withToolsAndStop;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.gateway.provider.ClientTestSupport.RecordingListener;
import dev.jodo.kernel.platform.config.ProviderType;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OpenAiClientTest {
  private static final String KEY = "sk-test-openai-0123456789";
  private static final String CHAT = "POST /v1/chat/completions";

  private final FakeProvider fake = FakeProvider.openAi(KEY);
  private final ProviderClient client = client("openai", ProviderType.OPENAI, fake.baseUrl(), KEY);

  private final ProviderClient impatient =
      client("openai", ProviderType.OPENAI, fake.baseUrl(), KEY, ClientTestSupport.SHORT_TIMEOUT);

  @AfterEach
  void tearDown() throws Exception {
    ClientTestSupport.close(client);
    ClientTestSupport.close(impatient);
    fake.close();
  }

  @Test
  void chatReturnsTheAnswerWithReportedUsage() throws Exception {
    fake.reply("the answer is forty two");

    ChatResult result = client.chat(ask("gpt-4o-mini", "what is six times seven"));

    assertThat(result)
        .isEqualTo(
            new ChatResult(
                "the answer is forty two",
                List.of(),
                FinishReason.STOP,
                Optional.of(new Usage(5, 5)),
                "gpt-4o-mini"));
    FakeProvider.Received request = fake.requests().get(0);
    assertThat(request.path()).isEqualTo("/v1/chat/completions");
    assertThat(request.headers()).containsEntry("authorization", "Bearer " + KEY);
    assertThat(request.body().path("max_tokens").asInt()).isEqualTo(100);
    assertThat(request.body().path("temperature").asDouble()).isEqualTo(0.5);
    assertThat(request.body().has("stream")).isFalse();
  }

  @Test
  void keylessProviderSendsNoAuthorizationHeader() throws Exception {
    try (FakeProvider local = FakeProvider.openAi()) {
      ProviderClient keyless = client("vllm", ProviderType.OPENAI, local.baseUrl(), null);
      keyless.chat(ask("qwen", "hi"));
      ClientTestSupport.close(keyless);
      assertThat(local.requests().get(0).headers()).doesNotContainKey("authorization");
    }
  }

  @Test
  void systemPromptBecomesTheLeadingSystemMessage() throws Exception {
    client.chat(ask("gpt-4o-mini", "be brief", List.of(ChatMessage.user("hi"))));

    assertThat(fake.requests().get(0).body().path("messages"))
        .isEqualTo(
            json(
                """
                [{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]"""));
  }

  @Test
  void toolsAndAToolConversationGoOutInOpenAiShape() throws Exception {
    ChatRequest request =
        withToolsAndStop(
            ask("gpt-4o-mini", null, toolConversation()),
            List.of(weatherTool()),
            json("{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}"));

    client.chat(request);

    JsonNode body = fake.requests().get(0).body();
    assertThat(body.path("messages"))
        .isEqualTo(
            json(
                """
                [{"role":"user","content":"weather in Paris and Rome?"},
                 {"role":"assistant","content":"Let me check.","tool_calls":[
                   {"id":"call_a","type":"function",
                    "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}},
                   {"id":"call_b","type":"function",
                    "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Rome\\"}"}}]},
                 {"role":"tool","content":"sunny","tool_call_id":"call_a"},
                 {"role":"tool","content":"rainy","tool_call_id":"call_b"},
                 {"role":"user","content":"thanks"}]"""));
    assertThat(body.path("tools"))
        .isEqualTo(
            json(
                """
                [{"type":"function","function":{"name":"get_weather",
                  "description":"Current weather for a city",
                  "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"""));
    assertThat(body.path("tool_choice"))
        .isEqualTo(json("{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}"));
    assertThat(body.path("stop")).isEqualTo(json("[\"STOP\"]"));
  }

  @Test
  void toolCallAnswerComesBackAsToolCalls() throws Exception {
    fake.toolCall("call_9", "get_weather", "{\"city\":\"Oslo\"}");

    ChatResult result = client.chat(ask("gpt-4o-mini", "weather in Oslo?"));

    assertThat(result.toolCalls())
        .containsExactly(new ToolCall("call_9", "get_weather", "{\"city\":\"Oslo\"}"));
    assertThat(result.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
    assertThat(result.content()).isEmpty();
  }

  @Test
  void streamDeliversTextDeltasInOrderAndTheFinalUsage() throws Exception {
    fake.reply("one two three").usage(11, 3);
    RecordingListener listener = new RecordingListener();

    ChatResult result = client.stream(ask("gpt-4o-mini", "count"), listener);

    assertThat(listener.texts).containsExactly("one ", "two ", "three");
    assertThat(result)
        .isEqualTo(
            new ChatResult(
                "one two three",
                List.of(),
                FinishReason.STOP,
                Optional.of(new Usage(11, 3)),
                "gpt-4o-mini"));
    JsonNode body = fake.requests().get(0).body();
    assertThat(body.path("stream").asBoolean()).isTrue();
    assertThat(body.path("stream_options")).isEqualTo(json("{\"include_usage\":true}"));
  }

  @Test
  void streamDeliversToolCallDeltas() throws Exception {
    fake.toolCall("call_7", "get_weather", "{\"city\":\"Lima\"}");
    RecordingListener listener = new RecordingListener();

    ChatResult result = client.stream(ask("gpt-4o-mini", "weather?"), listener);

    assertThat(listener.toolDeltas)
        .containsExactly(
            "0|call_7|get_weather|",
            "0|null|null|{\"cit",
            "0|null|null|y\":\"L",
            "0|null|null|ima\"}");
    assertThat(result.toolCalls())
        .containsExactly(new ToolCall("call_7", "get_weather", "{\"city\":\"Lima\"}"));
    assertThat(result.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
  }

  @Test
  void missingUsageLeavesReportedUsageEmpty() throws Exception {
    fake.reportUsage(false);

    assertThat(client.chat(ask("gpt-4o-mini", "hi")).reportedUsage()).isEmpty();
    assertThat(client.stream(ask("gpt-4o-mini", "hi"), new RecordingListener()).reportedUsage())
        .isEmpty();
  }

  @Test
  void rateLimitCarriesRetryAfter() {
    fake.failWith(429, 1);

    var e = catchThrowableOfType(ProviderException.RateLimited.class, this::chat);

    assertThat(e.retryAfter()).contains(Duration.ofSeconds(7));
    assertThat(e.retryable()).isTrue();
    assertThat(e)
        .hasMessage("openai returned HTTP 429 for " + CHAT + ": rate limit exceeded (injected)");
  }

  @Test
  void serverErrorIsUnavailable() {
    fake.failWith(500, 1);

    var e = catchThrowableOfType(ProviderException.Unavailable.class, this::chat);

    assertThat(e.status()).isEqualTo(500);
    assertThat(e)
        .hasMessage("openai returned HTTP 500 for " + CHAT + ": internal server error (injected)");
  }

  @Test
  void badRequestIsRejectedWithTheProvidersMessage() {
    ChatRequest orphanToolResult =
        ask("gpt-4o-mini", null, List.of(ChatMessage.tool("call_x", "result")));

    var e =
        catchThrowableOfType(ProviderException.Rejected.class, () -> client.chat(orphanToolResult));

    assertThat(e.status()).isEqualTo(400);
    assertThat(e.retryable()).isFalse();
    assertThat(e)
        .hasMessage(
            "openai returned HTTP 400 for "
                + CHAT
                + ": Invalid parameter: messages with role 'tool' must be a response to a"
                + " preceeding message with 'tool_calls'.");
  }

  @Test
  void slowAnswerTimesOut() {
    fake.delay(Duration.ofSeconds(1));

    var e = catchThrowableOfType(ProviderException.TimedOut.class, () -> chat(impatient));

    assertThat(e).hasMessage("openai did not answer " + CHAT + " within 300ms");
  }

  @Test
  void stalledStreamTimesOut() {
    fake.chunkDelay(Duration.ofSeconds(1));

    var e = catchThrowableOfType(ProviderException.TimedOut.class, () -> stream(impatient));

    assertThat(e).hasMessage("openai stalled: no data for 300ms while reading " + CHAT);
  }

  @Test
  void refusedConnectionFails() throws Exception {
    ProviderClient nowhere =
        client("openai", ProviderType.OPENAI, ClientTestSupport.refusingUrl() + "/v1", KEY);

    var e = catchThrowableOfType(ProviderException.ConnectionFailed.class, () -> chat(nowhere));

    assertThat(e)
        .hasMessageMatching(
            "openai connection to 127\\.0\\.0\\.1:\\d+ failed for " + CHAT + ": ConnectException");
    ClientTestSupport.close(nowhere);
  }

  @Test
  void droppedStreamFails() {
    fake.dropStreamAfter(2);

    var e = catchThrowableOfType(ProviderException.ConnectionFailed.class, this::stream);

    assertThat(e)
        .hasMessageStartingWith("openai connection broke off while reading " + CHAT + ": ");
  }

  @Test
  void throwingListenerAbortsTheUpstreamAndKeepsThePartialAnswer() {
    fake.reply("a b c d e f g h i j k l m n o p").chunkDelay(Duration.ofMillis(20));

    var e =
        catchThrowableOfType(
            ProviderException.Aborted.class,
            () -> client.stream(ask("gpt-4o-mini", "letters"), new RecordingListener(2)));

    assertThat(e.partial().content()).isEqualTo("a b ");
    assertThat(e.getCause()).hasMessage("kernel client went away");
    assertThat(eventually(() -> fake.streamsAbortedByClient() == 1, Duration.ofSeconds(2)))
        .isTrue();
  }

  @Test
  void embeddingsComeBackInInputOrder() throws Exception {
    fake.embeddingDimensions(16);

    EmbeddingResult result =
        client.embed("text-embedding-3-small", List.of("alpha", "beta gamma", "alpha"));

    assertThat(result.vectors()).hasSize(3).allSatisfy(v -> assertThat(v).hasSize(16));
    assertThat(result.vectors().get(0)).isEqualTo(result.vectors().get(2));
    assertThat(result.vectors().get(0)).isNotEqualTo(result.vectors().get(1));
    assertThat(result.reportedInputTokens()).contains(4);
    assertThat(result.model()).isEqualTo("text-embedding-3-small");
    FakeProvider.Received request = fake.requests().get(0);
    assertThat(request.path()).isEqualTo("/v1/embeddings");
    assertThat(request.body().path("input"))
        .isEqualTo(json("[\"alpha\",\"beta gamma\",\"alpha\"]"));
  }

  @Test
  void apiKeyNeverAppearsInAnError() throws Exception {
    List<Exception> errors = new ArrayList<>();
    try (FakeProvider other = FakeProvider.openAi("sk-some-other-key")) {
      ProviderClient wrongKey = client("openai", ProviderType.OPENAI, other.baseUrl(), KEY);
      errors.add(catchThrowableOfType(ProviderException.Unavailable.class, () -> chat(wrongKey)));
      ClientTestSupport.close(wrongKey);
    }
    for (int status : new int[] {400, 429, 500}) {
      fake.failWith(status, 1);
      errors.add(catchThrowableOfType(ProviderException.class, this::chat));
    }
    fake.failWith(0, 0).delay(Duration.ofSeconds(1));
    errors.add(catchThrowableOfType(ProviderException.TimedOut.class, () -> chat(impatient)));

    assertThat(errors).hasSize(5).doesNotContainNull();
    assertThat(errors).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(KEY));
    assertThat(errors.get(0)).hasMessageContaining("HTTP 401");
  }

  private void chat() throws ProviderException {
    chat(client);
  }

  private static void chat(ProviderClient target) throws ProviderException {
    target.chat(ask("gpt-4o-mini", "hi"));
  }

  private void stream() throws ProviderException {
    stream(client);
  }

  private static void stream(ProviderClient target) throws ProviderException {
    target.stream(ask("gpt-4o-mini", "hi"), new RecordingListener());
  }
}
