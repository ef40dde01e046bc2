package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seed 001's runs API through a real kernel, DBOS on its Postgres, a fake OpenAI provider. */
class RunsApiTest {
  static final String CONFIG =
      """
      providers:
        openai:
          base_url: "${OPENAI_URL}"
          api_key: "sk-openai-test"
          models:
            gpt-4o-mini: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [code, chat], quality: 6}
      routing:
        intent_preferences:
          chat: [openai]
      """;

  @TempDir static Path temp;
  static DatabaseTarget.External database;
  static FakeProvider openai;
  static Kernel kernel;
  static TestHttp http;
  static String admin;

  @BeforeAll
  static void start() {
    database = TestPostgres.freshDatabase(RunsApiTest.class);
    openai = FakeProvider.openAi("sk-openai-test");
    kernel =
        Kernel.start(
            TestConfigs.kernelConfig(
                temp, database, CONFIG, Map.of("OPENAI_URL", openai.baseUrl())),
            Kernel.Options.defaults());
    admin = kernel.firstBootAdminToken().orElseThrow().value();
    http = new TestHttp(kernel.port());
  }

  @AfterAll
  static void stop() {
    kernel.close();
    openai.close();
    TestPostgres.drop(database);
  }

  @Test
  void aMessageEventBecomesARunThatSucceedsWithTheReplyAndItsSteps() throws Exception {
    openai.reply("pong");
    TestHttp.Response accepted =
        http.post(
            "/v1/events",
            admin,
            """
            {"schema_version": 1, "type": "message", "conversation_key": "c1", "user_key": "u1",
             "text": "ping", "raw": {"secret": "do-not-log"}}
            """);
    assertThat(accepted.status()).isEqualTo(202);
    String runId = accepted.json().path("run_id").asText();
    assertThat(runId).startsWith("run_");

    await(() -> status(runId).equals("succeeded"));
    JsonNode run = http.get("/v1/runs/" + runId, admin).json();
    assertThat(run.path("output").asText()).isEqualTo("pong");
    assertThat(run.path("workflow").asText()).isEqualTo("message");
    assertThat(run.path("conversation_key").asText()).isEqualTo("c1");
    assertThat(run.path("created_at").asText()).endsWith("Z");
    assertThat(run.path("finished_at").asText()).endsWith("Z");
    assertThat(run.path("steps").findValuesAsText("name"))
        .containsExactly("think", "append_session");
    assertThat(run.path("steps").findValuesAsText("status")).containsOnly("succeeded");
  }

  static String status(String runId) {
    return http.get("/v1/runs/" + runId, admin).json().path("status").asText();
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(condition.getAsBoolean()).as("within 20 s").isTrue();
  }
}
