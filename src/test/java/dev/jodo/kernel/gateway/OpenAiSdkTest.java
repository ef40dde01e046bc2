package dev.jodo.kernel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The official OpenAI Java SDK, pointed at the kernel's /v1 with a kernel token as its key. */
class OpenAiSdkTest {
  @TempDir static Path temp;
  static FakeProvider anthropic;
  static FakeProvider openai;
  static FakeProvider ollama;
  static DatabaseTarget.External database;
  static Kernel kernel;
  static OpenAIClient client;

  @BeforeAll
  static void start() {
    anthropic = FakeProvider.anthropic("sk-ant-test");
    openai = FakeProvider.openAi("sk-openai-test");
    ollama = FakeProvider.ollama();
    database = TestPostgres.freshDatabase(OpenAiSdkTest.class);
    kernel =
        Kernel.start(
            TestConfigs.kernelConfig(
                temp,
                database,
                GatewayApiTest.CONFIG,
                Map.of(
                    "ANTHROPIC_URL", anthropic.baseUrl(),
                    "OPENAI_URL", openai.baseUrl(),
                    "OLLAMA_URL", ollama.baseUrl(),
                    "CLAUDE_API_KEY", "sk-ant-test",
                    "OPENAI_API_KEY", "sk-openai-test")),
            Kernel.Options.defaults());
    String token = kernel.tokens().createAgentToken("sdk", EnumSet.of(Scope.THINK)).token().value();
    client =
        OpenAIOkHttpClient.builder()
            .baseUrl("http://127.0.0.1:" + kernel.port() + "/v1")
            .apiKey(token)
            .maxRetries(0)
            .timeout(Duration.ofSeconds(20))
            .build();
  }

  @AfterAll
  static void stop() {
    client.close();
    kernel.close();
    anthropic.close();
    openai.close();
    ollama.close();
    TestPostgres.drop(database);
  }

  @Test
  void chatCompletionThroughTheSdk() {
    anthropic.reply("hi from claude").usage(9, 4);
    ChatCompletion completion =
        client
            .chat()
            .completions()
            .create(
                ChatCompletionCreateParams.builder()
                    .model("jodo:code")
                    .addUserMessage("say hi")
                    .maxCompletionTokens(50)
                    .build());
    assertThat(completion.model()).isEqualTo("claude-sonnet-4-20250514");
    assertThat(completion.choices().get(0).message().content()).contains("hi from claude");
    assertThat(completion.usage().orElseThrow().promptTokens()).isEqualTo(9);
    assertThat(completion.usage().orElseThrow().completionTokens()).isEqualTo(4);
  }

  @Test
  void streamingThroughTheSdk() {
    openai.streamChunks(List.of("one ", "two ", "three")).usage(5, 3);
    StringBuilder text = new StringBuilder();
    long usageChunks = 0;
    try (StreamResponse<ChatCompletionChunk> stream =
        client
            .chat()
            .completions()
            .createStreaming(
                ChatCompletionCreateParams.builder()
                    .model("gpt-4o-mini")
                    .addUserMessage("count")
                    .build())) {
      for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
        chunk.choices().forEach(choice -> choice.delta().content().ifPresent(text::append));
        if (chunk.usage().isPresent()) {
          usageChunks++;
          assertThat(chunk.usage().get().totalTokens()).isEqualTo(8);
        }
      }
    }
    assertThat(text.toString()).isEqualTo("one two three");
    assertThat(usageChunks).isEqualTo(1);
  }

  @Test
  void embeddingsThroughTheSdk() {
    openai.embeddingDimensions(12);
    CreateEmbeddingResponse response =
        client
            .embeddings()
            .create(
                EmbeddingCreateParams.builder()
                    .model("text-embedding-3-small")
                    .input("remember me")
                    .build());
    assertThat(response.data()).hasSize(1);
    assertThat(response.data().get(0).embedding()).hasSize(12);
  }

  @Test
  void modelsAndAuthErrorsThroughTheSdk() {
    assertThat(client.models().list().data()).anyMatch(m -> m.id().equals("jodo:chat"));
    OpenAIClient wrongKey =
        OpenAIOkHttpClient.builder()
            .baseUrl("http://127.0.0.1:" + kernel.port() + "/v1")
            .apiKey("jodo_agent_wrong")
            .maxRetries(0)
            .build();
    assertThatThrownBy(() -> wrongKey.models().list()).isInstanceOf(UnauthorizedException.class);
    wrongKey.close();
  }
}
