package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent turn through a real kernel and a fake OpenAI: the tool loop's limit, the session's
 * compaction, and what reaches the model as context (memories, skills, parent AGENTS.md).
 */
class AgentTurnTest {
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
          quick: [openai]
      runs:
        max_turns: 3
        compact_after_tokens: 500
      """;

  @TempDir Path temp;
  private DatabaseTarget.External database;
  private FakeProvider openai;
  private Kernel kernel;
  private TestHttp http;
  private String admin;
  private Path workspace;

  @BeforeEach
  void setUp() throws Exception {
    database = TestPostgres.freshDatabase(AgentTurnTest.class);
    openai = FakeProvider.openAi("sk-openai-test");
    workspace = temp.resolve("outer/inner/workspace");
    Files.createDirectories(workspace.resolve("skills/weather"));
    Files.writeString(temp.resolve("outer/AGENTS.md"), "Outer policy: be kind.");
    Path tool = Files.createDirectories(workspace.resolve("tools/forecast"));
    Files.writeString(
        tool.resolve("tool.yaml"),
        """
        description: The weather forecast for a city.
        parameters: {type: object, properties: {city: {type: string}}, required: [city]}
        command: ["sh", "-c", "tr -d '{}\\"' | sed 's/city:/sunny in /'"]
        """);
    Files.writeString(
        workspace.resolve("skills/weather/SKILL.md"),
        "---\nname: weather\ndescription: Tells the forecast for a city.\n---\n\nSteps...");
    kernel =
        Kernel.start(
            TestConfigs.kernelConfig(
                temp,
                database,
                CONFIG,
                Map.of("OPENAI_URL", openai.baseUrl(), "JODO_WORKSPACE_DIR", workspace.toString())),
            Kernel.Options.defaults());
    admin = kernel.firstBootAdminToken().orElseThrow().value();
    http = new TestHttp(kernel.port());
  }

  @AfterEach
  void tearDown() {
    kernel.close();
    openai.close();
    TestPostgres.drop(database);
  }

  @Test
  void aModelThatOnlyEverCallsToolsFailsTheRunAfterMaxTurnsWithAClearError() throws Exception {
    openai.reply("").toolCall("call_1", "lookup", "{\"q\":\"x\"}");
    JsonNode run = finished(post("loop", "find x"));

    assertThat(run.path("status").asText()).isEqualTo("failed");
    assertThat(run.path("error").asText()).contains("runs.max_turns is 3");
    List<JsonNode> calls = chatRequests();
    assertThat(calls).hasSize(3);
    // Each call after the first carries what the tool gave back: here, that there is no such tool.
    JsonNode last = calls.get(2).path("messages");
    assertThat(last.get(last.size() - 1).path("role").asText()).isEqualTo("tool");
    assertThat(last.get(last.size() - 1).path("content").asText())
        .isEqualTo("error: there is no tool lookup");
    assertThat(last.get(last.size() - 1).path("tool_call_id").asText()).isEqualTo("call_1");
    assertThat(run.path("steps").findValuesAsText("name"))
        .containsExactly("think", "tool:lookup", "think", "tool:lookup", "think", "tool:lookup");
    assertThat(count("SELECT count(*) FROM session_messages")).as("nothing appended").isZero();
  }

  @Test
  void aWorkspaceToolIsOfferedCalledAndItsOutputFedBackBeforeTheAnswer() throws Exception {
    openai.reply("It is sunny.").toolCallOnce("call_7", "forecast", "{\"city\":\"Oslo\"}");
    JsonNode run = finished(post("weather", "weather in Oslo?"));

    assertThat(run.path("status").asText()).as(run.toString()).isEqualTo("succeeded");
    assertThat(run.path("output").asText()).isEqualTo("It is sunny.");
    assertThat(run.path("steps").findValuesAsText("name"))
        .containsExactly("think", "tool:forecast", "think");
    List<JsonNode> calls = chatRequests();
    assertThat(calls).hasSize(2);
    JsonNode offered = calls.get(0).path("tools");
    assertThat(offered.get(0).path("function").path("name").asText()).isEqualTo("forecast");
    assertThat(offered.get(0).path("function").path("parameters").path("required").get(0).asText())
        .isEqualTo("city");
    JsonNode second = calls.get(1).path("messages");
    JsonNode assistant = second.get(second.size() - 2);
    assertThat(assistant.path("role").asText()).isEqualTo("assistant");
    assertThat(assistant.path("tool_calls").get(0).path("id").asText()).isEqualTo("call_7");
    JsonNode result = second.get(second.size() - 1);
    assertThat(result.path("tool_call_id").asText()).isEqualTo("call_7");
    assertThat(result.path("content").asText()).isEqualTo("sunny in Oslo");
    assertThat(count("SELECT count(*) FROM tool_calls WHERE tool = 'forecast' AND outcome = 'ok'"))
        .isEqualTo(1);
  }

  @Test
  void aLongSessionHasItsOlderPartSummarizedOnceAndTheSummaryGoesWithLaterTurns() throws Exception {
    openai.reply("Noted.");
    String filler = "word ".repeat(80); // 400 characters, about 100 tokens
    for (int i = 0; i < 6; i++) {
      assertThat(finished(post("long", i + " " + filler)).path("status").asText())
          .isEqualTo("succeeded");
    }

    List<JsonNode> compactions =
        openai.requests().stream()
            .map(FakeProvider.Received::body)
            .filter(b -> system(b).equals(AgentTurn.COMPACTION_PROMPT))
            .toList();
    assertThat(compactions).as("one compaction so far").hasSize(1);
    String summarized = compactions.get(0).path("messages").get(1).path("content").asText();
    assertThat(summarized).startsWith("user: 0 word").contains("assistant: Noted.");
    assertThat(count("SELECT count(*) FROM session_messages WHERE role = 'summary'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM session_messages WHERE compacted_by IS NOT NULL"))
        .isGreaterThan(0);

    // The turn after it: the summary in the system prompt, the kept messages, no older ones.
    JsonNode last = chatRequests().get(chatRequests().size() - 1);
    assertThat(system(last)).contains("# Earlier in this conversation\n\nNoted.");
    JsonNode messages = last.path("messages");
    assertThat(messages.size() - 2).isLessThanOrEqualTo(AgentTurn.KEEP_AFTER_COMPACTION);
    assertThat(messages.get(1).path("content").asText()).doesNotStartWith("0 word");
  }

  @Test
  void memoriesSkillsAndTheParentDirectoriesAgentsMdReachTheModel() throws Exception {
    openai.reply("ok");
    TestHttp.Response stored =
        http.post(
            "/api/memory/store",
            admin,
            "{\"namespace\":\"jodo\",\"content\":\"The human's cat is called Miso.\"}");
    assertThat(stored.status()).as(stored.body()).isIn(200, 201);
    assertThat(finished(post("cats", "what is my cat called?")).path("status").asText())
        .isEqualTo("succeeded");

    String system = system(chatRequests().get(0));
    assertThat(system).contains("# Memories").contains("The human's cat is called Miso.");
    assertThat(system)
        .contains("- weather: Tells the forecast for a city. (skills/weather/SKILL.md)");
    assertThat(system).contains("Outer policy: be kind.");
  }

  private String post(String conversation, String text) {
    return TestRuns.post(http, admin, "message", conversation, text);
  }

  private JsonNode finished(String runId) throws InterruptedException {
    return TestRuns.finished(http, admin, runId);
  }

  /** The chat calls of agent turns (not compactions), in order. */
  private List<JsonNode> chatRequests() {
    return openai.requests().stream()
        .filter(r -> r.path().endsWith("/chat/completions"))
        .map(FakeProvider.Received::body)
        .filter(b -> !system(b).equals(AgentTurn.COMPACTION_PROMPT))
        .toList();
  }

  private static String system(JsonNode body) {
    JsonNode first = body.path("messages").path(0);
    return first.path("role").asText().equals("system") ? first.path("content").asText() : "";
  }

  private long count(String sql) throws Exception {
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
