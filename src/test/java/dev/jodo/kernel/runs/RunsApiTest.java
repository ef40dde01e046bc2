package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.auth.Scope;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
    assertThat(run.path("steps").findValuesAsText("name")).containsExactly("think");
    assertThat(run.path("steps").findValuesAsText("status")).containsOnly("succeeded");
  }

  @Test
  void runsOfOneConversationAreSequentialInArrivalOrderWhileOtherConversationsOverlap()
      throws Exception {
    openai.reply("ok").delay(Duration.ofMillis(300));
    try {
      List<String> a = new ArrayList<>();
      List<String> b = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        a.add(submit("seq-a", "a" + i, null));
        b.add(submit("seq-b", "b" + i, null));
      }
      for (String run : concat(a, b)) {
        await(() -> status(run).equals("succeeded"));
      }
      List<JsonNode> runsA =
          a.stream().map(id -> http.get("/v1/runs/" + id, admin).json()).toList();
      List<JsonNode> runsB =
          b.stream().map(id -> http.get("/v1/runs/" + id, admin).json()).toList();
      for (List<JsonNode> runs : List.of(runsA, runsB)) {
        for (int i = 1; i < runs.size(); i++) {
          assertThat(instant(runs.get(i), "started_at"))
              .as("run %d of a conversation starts after run %d finished", i + 1, i)
              .isAfterOrEqualTo(instant(runs.get(i - 1), "finished_at"));
        }
      }
      // The two conversations ran side by side: their first runs overlapped.
      assertThat(instant(runsB.get(0), "started_at"))
          .isBefore(instant(runsA.get(0), "finished_at"));
      assertThat(instant(runsA.get(0), "started_at"))
          .isBefore(instant(runsB.get(0), "finished_at"));
      // The session holds the messages in arrival order.
      assertThat(sessionTexts("seq-a")).containsExactly("a1", "ok", "a2", "ok", "a3", "ok");
    } finally {
      openai.delay(Duration.ZERO);
    }
  }

  @Test
  void theSameIdempotencyKeyOrEventIdGivesTheSameRunStartedOnce() throws Exception {
    openai.reply("once");
    String first = submit("idem", "only once", "key-1");
    String again = submit("idem", "only once", "key-1");
    assertThat(again).isEqualTo(first);
    await(() -> status(first).equals("succeeded"));
    String byEventId =
        http.post(
                "/v1/events",
                admin,
                event("idem", "by event id").replace("}", ", \"event_id\": \"evt-7\"}"))
            .json()
            .path("run_id")
            .asText();
    String byEventIdAgain =
        http.post(
                "/v1/events",
                admin,
                event("idem", "by event id").replace("}", ", \"event_id\": \"evt-7\"}"))
            .json()
            .path("run_id")
            .asText();
    assertThat(byEventIdAgain).isEqualTo(byEventId).isNotEqualTo(first);
    await(() -> status(byEventId).equals("succeeded"));
    assertThat(sessionTexts("idem")).containsExactly("only once", "once", "by event id", "once");
  }

  @Test
  void badEventsAreRefusedNamingTheField() {
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put(
        "{\"type\": \"message\", \"conversation_key\": \"c\", \"text\": \"t\"}", "schema_version");
    cases.put(
        "{\"schema_version\": 2, \"type\": \"message\", \"conversation_key\": \"c\", \"text\": \"t\"}",
        "schema_version");
    cases.put("{\"schema_version\": 1, \"conversation_key\": \"c\", \"text\": \"t\"}", "type");
    cases.put(
        "{\"schema_version\": 1, \"type\": \"dance\", \"conversation_key\": \"c\", \"text\": \"t\"}",
        "type");
    cases.put(
        "{\"schema_version\": 1, \"type\": \"message\", \"text\": \"t\"}", "conversation_key");
    cases.put(
        "{\"schema_version\": 1, \"type\": \"message\", \"conversation_key\": \"c\", \"text\": \""
            + "x".repeat(64 * 1024 + 1)
            + "\"}",
        "text");
    cases.put(
        "{\"schema_version\": 1, \"type\": \"message\", \"conversation_key\": \"c\", \"text\": \"t\", \"raw\": 5}",
        "raw");
    cases.put(
        "{\"schema_version\": 1, \"type\": \"message\", \"conversation_key\": \"c\", \"text\": \"t\", \"colour\": 1}",
        "colour");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      TestHttp.Response response = http.post("/v1/events", admin, c.getKey());
      assertThat(response.status()).as(c.getValue()).isEqualTo(400);
      assertThat(response.errorMessage()).as(c.getValue()).startsWith(c.getValue() + ":");
    }
    assertThat(http.get("/v1/runs/run_nope", admin).status()).isEqualTo(404);
    assertThat(http.get("/v1/runs?status=sleeping", admin).status()).isEqualTo(400);
    assertThat(http.get("/v1/runs?limit=0", admin).status()).isEqualTo(400);
  }

  @Test
  void runsAreListedByConversationAndOnlyTheAdminCancels() throws Exception {
    openai.reply("listed");
    String one = submit("list-me", "one", null);
    await(() -> status(one).equals("succeeded"));
    String two = submit("list-me", "two", null);
    await(() -> status(two).equals("succeeded"));
    submit("someone-else", "three", null);
    JsonNode listed = http.get("/v1/runs?conversation_key=list-me", admin).json().path("runs");
    assertThat(listed.findValuesAsText("run_id")).containsExactly(two, one);
    assertThat(
            http.get("/v1/runs?conversation_key=list-me&status=failed", admin)
                .json()
                .path("runs")
                .size())
        .isZero();

    String agent =
        kernel
            .tokens()
            .createAgentToken("jodo", java.util.EnumSet.of(Scope.EVENTS, Scope.RUNS))
            .token()
            .value();
    assertThat(http.get("/v1/runs/" + one, agent).status()).isEqualTo(200);
    assertThat(http.post("/v1/runs/" + one + "/cancel", agent, "").status()).isEqualTo(403);
    openai.delay(Duration.ofSeconds(2));
    try {
      String slow = submit("cancel-me", "slow", null);
      String queued = submit("cancel-me", "queued behind it", null);
      TestHttp.Response cancelled = http.post("/v1/runs/" + queued + "/cancel", admin, "");
      assertThat(cancelled.status()).isEqualTo(200);
      assertThat(cancelled.json().path("status").asText()).isEqualTo("failed");
      assertThat(cancelled.json().path("error").asText()).isEqualTo("cancelled");
      await(() -> status(slow).equals("succeeded"));
      assertThat(status(queued)).isEqualTo("failed");
      assertThat(http.post("/v1/runs/run_nope/cancel", admin, "").status()).isEqualTo(404);
    } finally {
      openai.delay(Duration.ZERO);
    }
  }

  @Test
  void theWorkspacesSystemFilesAndAgentsMdReachTheModelAndEditsApplyToTheNextRun()
      throws Exception {
    Path home = kernel.config().home();
    Path workspace = kernel.config().workspaceDir();
    assertThat(workspace).isEqualTo(home.resolve("workspace"));
    assertThat(workspace.resolve("README.md")).exists();
    assertThat(workspace.resolve("workflows")).isDirectory();
    openai.reply("ok");
    try {
      String plain = submit("ws", "plain", null);
      await(() -> status(plain).equals("succeeded"));
      assertThat(lastSystemPrompt()).isEqualTo(Workspace.BUILT_IN_PROMPT);

      Files.writeString(workspace.resolve("SYSTEM.md"), "You are Jodo, terse.\n");
      Files.writeString(workspace.resolve("APPEND_SYSTEM.md"), "Never use emoji.");
      Files.writeString(workspace.resolve("AGENTS.md"), "Workspace rule: cite sources.");
      Files.writeString(home.resolve("AGENTS.md"), "Global rule: be kind.");
      String shaped = submit("ws", "shaped", null);
      await(() -> status(shaped).equals("succeeded"));
      assertThat(lastSystemPrompt())
          .startsWith("You are Jodo, terse.\n\nNever use emoji.")
          .doesNotContain(Workspace.BUILT_IN_PROMPT)
          .containsSubsequence("Global rule: be kind.", "Workspace rule: cite sources.");

      Files.delete(workspace.resolve("SYSTEM.md"));
      String edited = submit("ws", "edited", null);
      await(() -> status(edited).equals("succeeded"));
      assertThat(lastSystemPrompt()).startsWith(Workspace.BUILT_IN_PROMPT + "\n\nNever use emoji.");
    } finally {
      for (Path file :
          List.of(
              workspace.resolve("SYSTEM.md"),
              workspace.resolve("APPEND_SYSTEM.md"),
              workspace.resolve("AGENTS.md"),
              home.resolve("AGENTS.md"))) {
        Files.deleteIfExists(file);
      }
    }
  }

  private static String lastSystemPrompt() {
    List<FakeProvider.Received> requests = openai.requests();
    JsonNode messages = requests.get(requests.size() - 1).body().path("messages");
    assertThat(messages.get(0).path("role").asText()).isEqualTo("system");
    return messages.get(0).path("content").asText();
  }

  private static String submit(String conversation, String text, String idempotencyKey) {
    TestHttp.Response response =
        idempotencyKey == null
            ? http.post("/v1/events", admin, event(conversation, text))
            : http.postWithHeader(
                "/v1/events", admin, event(conversation, text), "Idempotency-Key", idempotencyKey);
    assertThat(response.status()).as(response.body()).isEqualTo(202);
    return response.json().path("run_id").asText();
  }

  private static String event(String conversation, String text) {
    return "{\"schema_version\": 1, \"type\": \"message\", \"conversation_key\": \""
        + conversation
        + "\", \"text\": \""
        + text
        + "\"}";
  }

  private static List<String> sessionTexts(String conversation) throws Exception {
    List<String> texts = new ArrayList<>();
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT content FROM session_messages WHERE conversation_key = ? ORDER BY id")) {
      ps.setString(1, conversation);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          texts.add(rs.getString(1));
        }
      }
    }
    return texts;
  }

  private static Instant instant(JsonNode run, String field) {
    return Instant.parse(run.path(field).asText());
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
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
