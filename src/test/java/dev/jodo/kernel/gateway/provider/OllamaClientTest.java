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

import dev.jodo.kernel.gateway.provider.ClientTestSupport.RecordingListener;
import dev.jodo.kernel.platform.config.ProviderType;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OllamaClientTest {
  private static final String CHAT = "POST /api/chat";
  private static final String MODEL = "llama3";

  private final FakeProvider fake = FakeProvider.ollama();
  private final ProviderClient client = client("ollama", ProviderType.OLLAMA, fake.baseUrl(), null);

  private final ProviderClient impatient =
      client("ollama", ProviderType.OLLAMA, fake.baseUrl(), null, ClientTestSupport.SHORT_TIMEOUT);

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
    var request = fake.requests().get(0);
    assertThat(request.path()).isEqualTo("/api/chat");
    assertThat(request.headers()).doesNotContainKey("authorization");
    assertThat(request.body().path("stream").asBoolean(true)).isFalse();
    assertThat(request.body().path("options"))
        .isEqualTo(json("{\"temperature\":0.5,\"num_predict\":100}"));
  }

  @Test
  void systemPromptBecomesTheLeadingSystemMessage() throws Exception {
    client.chat(ask(MODEL, "be brief", List.of(ChatMessage.user("hi"))));

    assertThat(fake.requests().get(0).body().path("messages"))
        .isEqualTo(
            json(
                """
                [{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]"""));
  }

  @Test
  void toolConversationSendsArgumentsAsObjectsAndNamesToolResults() throws Exception {
    ChatRequest request =
        withToolsAndStop(
            ask(MODEL, null, toolConversation()), List.of(weatherTool()), json("\"auto\""));

    client.chat(request);

    var body = fake.requests().get(0).body();
    assertThat(body.path("messages"))
        .isEqualTo(
            json(
                """
                [{"role":"user","content":"weather in Paris and Rome?"},
                 {"role":"assistant","content":"Let me check.","tool_calls":[
                   {"function":{"name":"get_weather","arguments":{"city":"Paris"}}},
                   {"function":{"name":"get_weather","arguments":{"city":"Rome"}}}]},
                 {"role":"tool","content":"sunny","tool_name":"get_weather"},
                 {"role":"tool","content":"rainy","tool_name":"get_weather"},
                 {"role":"user","content":"thanks"}]"""));
    assertThat(body.path("tools"))
        .isEqualTo(
            json(
                """
                [{"type":"function","function":{"name":"get_weather",
                  "description":"Current weather for a city",
                  "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]"""));
    assertThat(body.path("options").path("stop")).isEqualTo(json("[\"STOP\"]"));
  }

  @Test
  void toolChoiceNoneOffersNoTools() throws Exception {
    client.chat(withToolsAndStop(ask(MODEL, "hi"), List.of(weatherTool()), json("\"none\"")));

    assertThat(fake.requests().get(0).body().has("tools")).isFalse();
  }

  @Test
  void toolCallAnswerGetsNumberedIds() throws Exception {
    fake.toolCall("ignored", "get_weather", "{\"city\":\"Oslo\"}");

    ChatResult result = client.chat(ask(MODEL, "weather in Oslo?"));

    assertThat(result.toolCalls())
        .containsExactly(new ToolCall("call_0", "get_weather", "{\"city\":\"Oslo\"}"));
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
  void streamDeliversEachToolCallWhole() throws Exception {
    fake.toolCall("ignored", "get_weather", "{\"city\":\"Lima\"}");
    RecordingListener listener = new RecordingListener();

    ChatResult result = client.stream(ask(MODEL, "weather?"), listener);

    assertThat(listener.toolDeltas).containsExactly("0|call_0|get_weather|{\"city\":\"Lima\"}");
    assertThat(result.toolCalls())
        .containsExactly(new ToolCall("call_0", "get_weather", "{\"city\":\"Lima\"}"));
    assertThat(result.finishReason()).isEqualTo(FinishReason.TOOL_CALLS);
  }

  @Test
  void missingUsageLeavesReportedUsageEmpty() throws Exception {
    fake.reportUsage(false);

    assertThat(client.chat(ask(MODEL, "hi")).reportedUsage()).isEmpty();
    assertThat(client.stream(ask(MODEL, "hi"), new RecordingListener()).reportedUsage()).isEmpty();
    assertThat(client.embed("nomic-embed-text", List.of("x")).reportedInputTokens()).isEmpty();
  }

  @Test
  void rateLimitCarriesRetryAfter() {
    fake.failWith(429, 1);

    var e = catchThrowableOfType(ProviderException.RateLimited.class, this::chat);

    assertThat(e.retryAfter()).contains(Duration.ofSeconds(7));
    assertThat(e)
        .hasMessage("ollama returned HTTP 429 for " + CHAT + ": rate limit exceeded (injected)");
  }

  @Test
  void serverErrorIsUnavailable() {
    fake.failWith(500, -1);

    var e = catchThrowableOfType(ProviderException.Unavailable.class, this::chat);
    var again = catchThrowableOfType(ProviderException.Unavailable.class, this::stream);

    assertThat(e.status()).isEqualTo(500);
    assertThat(e)
        .hasMessage("ollama returned HTTP 500 for " + CHAT + ": internal server error (injected)");
    assertThat(again.status()).isEqualTo(500);
  }

  @Test
  void badRequestIsRejectedWithTheProvidersMessage() {
    var e =
        catchThrowableOfType(ProviderException.Rejected.class, () -> client.chat(ask("", "hi")));

    assertThat(e.status()).isEqualTo(400);
    assertThat(e).hasMessage("ollama returned HTTP 400 for " + CHAT + ": model is required");
  }

  @Test
  void argumentsThatAreNotAnObjectAreRejectedBeforeSending() {
    ChatRequest broken =
        ask(
            MODEL,
            null,
            List.of(
                ChatMessage.user("hi"),
                new ChatMessage(
                    "assistant", null, List.of(new ToolCall("call_0", "f", "[1,2]")), null)));

    var e = catchThrowableOfType(ProviderException.Rejected.class, () -> client.chat(broken));

    assertThat(e)
        .hasMessage(
            "ollama needs tool call arguments as a JSON object; tool call call_0 (f) has: [1,2]");
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void slowAnswerTimesOut() {
    fake.delay(Duration.ofSeconds(1));

    var e = catchThrowableOfType(ProviderException.TimedOut.class, () -> chat(impatient));

    assertThat(e).hasMessage("ollama did not answer " + CHAT + " within 300ms");
  }

  @Test
  void stalledStreamTimesOut() {
    fake.chunkDelay(Duration.ofSeconds(1));

    var e = catchThrowableOfType(ProviderException.TimedOut.class, () -> stream(impatient));

    assertThat(e).hasMessage("ollama stalled: no data for 300ms while reading " + CHAT);
  }

  @Test
  void refusedConnectionFails() throws Exception {
    ProviderClient nowhere =
        client("ollama", ProviderType.OLLAMA, ClientTestSupport.refusingUrl(), null);

    var e = catchThrowableOfType(ProviderException.ConnectionFailed.class, () -> chat(nowhere));

    assertThat(e)
        .hasMessageMatching(
            "ollama connection to 127\\.0\\.0\\.1:\\d+ failed for " + CHAT + ": ConnectException");
    ClientTestSupport.close(nowhere);
  }

  @Test
  void droppedStreamFails() {
    fake.dropStreamAfter(1);

    var e = catchThrowableOfType(ProviderException.ConnectionFailed.class, this::stream);

    assertThat(e).hasMessageStartingWith("ollama connection broke off while reading " + CHAT);
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
  void embeddingsComeBackInInputOrder() throws Exception {
    fake.embeddingDimensions(4);

    EmbeddingResult result = client.embed("nomic-embed-text", List.of("alpha", "beta gamma"));

    assertThat(result.vectors()).hasSize(2).allSatisfy(v -> assertThat(v).hasSize(4));
    assertThat(result.vectors().get(0)).isNotEqualTo(result.vectors().get(1));
    assertThat(client.embed("nomic-embed-text", List.of("beta gamma")).vectors().get(0))
        .isEqualTo(result.vectors().get(1));
    assertThat(result.reportedInputTokens()).contains(3);
    assertThat(fake.requests().get(0).path()).isEqualTo("/api/embed");
  }

  @Test
  void modelsListsWhatTheServerHas() throws Exception {
    client.chat(ask("qwen2.5:7b", "hi"));

    assertThat(((OllamaClient) client).models()).containsExactly("llama3", "qwen2.5:7b");
  }

  @Test
  void configuredKeyGoesOutAsABearerTokenAndNeverIntoAnError() throws Exception {
    String key = "ollama-cloud-key-0123456789";
    ProviderClient keyed = client("ollama", ProviderType.OLLAMA, fake.baseUrl(), key);
    List<Exception> errors = new ArrayList<>();
    for (int status : new int[] {400, 401, 429, 500}) {
      fake.failWith(status, 1);
      errors.add(catchThrowableOfType(ProviderException.class, () -> chat(keyed)));
    }
    ProviderClient keyedImpatient =
        client("ollama", ProviderType.OLLAMA, fake.baseUrl(), key, ClientTestSupport.SHORT_TIMEOUT);
    fake.failWith(0, 0).delay(Duration.ofSeconds(1));
    errors.add(catchThrowableOfType(ProviderException.TimedOut.class, () -> chat(keyedImpatient)));
    ClientTestSupport.close(keyed);
    ClientTestSupport.close(keyedImpatient);

    assertThat(fake.requests().get(0).headers()).containsEntry("authorization", "Bearer " + key);
    assertThat(errors).hasSize(5).doesNotContainNull();
    assertThat(errors).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(key));
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
