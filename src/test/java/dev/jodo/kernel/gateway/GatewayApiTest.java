package dev.jodo.kernel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestHttp.Response;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayApiTest {
  static final String CONFIG =
      """
      providers:
        claude:
          type: anthropic
          base_url: "${ANTHROPIC_URL}"
          api_key: "${CLAUDE_API_KEY}"
          models:
            claude-sonnet-4-20250514:
              input_cost_per_1m_tokens: 3.00
              output_cost_per_1m_tokens: 15.00
              capabilities: [code, chat, reasoning, repair]
              quality: 9
              max_output_tokens: 8192
          monthly_budget: 20.00
          emergency_reserve: 2.00
          timeout_seconds: 5
        openai:
          base_url: "${OPENAI_URL}"
          api_key: "${OPENAI_API_KEY}"
          models:
            gpt-4o-mini: {input_cost_per_1m_tokens: 0.15, output_cost_per_1m_tokens: 0.60, capabilities: [code, chat], quality: 6}
            text-embedding-3-small: {input_cost_per_1m_tokens: 0.02, output_cost_per_1m_tokens: 0, capabilities: [embed], quality: 5}
          monthly_budget: 10.00
          emergency_reserve: 1.00
          timeout_seconds: 5
        ollama:
          base_url: "${OLLAMA_URL}"
          models:
            llama3: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [code, chat, quick], quality: 5}
          max_concurrency: 1
          queue_timeout_seconds: 1
          timeout_seconds: 5
      routing:
        intent_preferences:
          code:   [claude, openai, ollama]
          chat:   [openai, ollama, claude]
          embed:  [ollama, openai]
          quick:  [ollama, openai]
          repair: [claude, openai]
      quotas:
        agents:
          limited: {requests_per_minute: 2}
      """;

  @TempDir static Path temp;
  static FakeProvider anthropic;
  static FakeProvider openai;
  static FakeProvider ollama;
  static DatabaseTarget.External database;
  static Kernel kernel;
  static TestHttp http;
  static String jodo;
  static final ObjectMapper MAPPER = new ObjectMapper();

  @BeforeAll
  static void start() {
    anthropic = FakeProvider.anthropic("sk-ant-test");
    openai = FakeProvider.openAi("sk-openai-test");
    ollama = FakeProvider.ollama();
    database = TestPostgres.freshDatabase(GatewayApiTest.class);
    KernelConfig config =
        TestConfigs.kernelConfig(
            temp,
            database,
            CONFIG,
            Map.of(
                "ANTHROPIC_URL", anthropic.baseUrl(),
                "OPENAI_URL", openai.baseUrl(),
                "OLLAMA_URL", ollama.baseUrl(),
                "CLAUDE_API_KEY", "sk-ant-test",
                "OPENAI_API_KEY", "sk-openai-test"));
    kernel = Kernel.start(config, Kernel.Options.defaults());
    http = new TestHttp(kernel.port());
    jodo =
        kernel
            .tokens()
            .createAgentToken("jodo", EnumSet.of(Scope.THINK, Scope.BUDGET))
            .token()
            .value();
  }

  @AfterAll
  static void stop() {
    kernel.close();
    anthropic.close();
    openai.close();
    ollama.close();
    TestPostgres.drop(database);
  }

  @BeforeEach
  void reset() throws Exception {
    anthropic.reset();
    openai.reset();
    ollama.reset();
    // The kernel's budget leases go back first: the tables they live in are emptied under it.
    kernel.gateway().returnLeases();
    sql("TRUNCATE budget_usage, budget_months, budget_leases, agent_requests");
  }

  @Test
  void thinkAnswersInSeedShapeAndBillsTheAgent() throws Exception {
    anthropic.reply("Here's the code...").usage(450, 1200);
    Response response =
        http.post(
            "/api/think",
            jodo,
            """
            {"intent": "code", "system": "You are a helpful coder.",
             "messages": [{"role": "user", "content": "write a function"}], "max_tokens": 2000}
            """);
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    JsonNode body = response.json();
    assertThat(body.path("content").asText()).isEqualTo("Here's the code...");
    assertThat(body.path("model_used").asText()).isEqualTo("claude-sonnet-4-20250514");
    assertThat(body.path("provider").asText()).isEqualTo("claude");
    assertThat(body.path("tokens_in").asInt()).isEqualTo(450);
    assertThat(body.path("tokens_out").asInt()).isEqualTo(1200);
    assertThat(body.path("cost").decimalValue()).isEqualByComparingTo("0.01935");
    assertThat(body.path("budget_remaining").path("claude").decimalValue())
        .isEqualByComparingTo("19.98065");
    assertThat(body.path("budget_remaining").path("openai").decimalValue())
        .isEqualByComparingTo("10");
    assertThat(body.path("budget_remaining").path("ollama").asText()).isEqualTo("unlimited");

    JsonNode sent = anthropic.requests().get(0).body();
    assertThat(sent.path("system").asText()).isEqualTo("You are a helpful coder.");
    assertThat(sent.path("max_tokens").asInt()).isEqualTo(2000);
    assertThat(sent.path("temperature").asDouble()).isEqualTo(0.7);
    assertThat(anthropic.requests().get(0).headers().get("x-api-key")).isEqualTo("sk-ant-test");

    List<String> rows =
        ledgerRows(
            "SELECT provider, model, intent, tokens_in, tokens_out, cost, requested_by, status FROM budget_usage");
    assertThat(rows)
        .containsExactly("claude|claude-sonnet-4-20250514|code|450|1200|0.019350|jodo|settled");
  }

  @Test
  void defaultsAreOneThousandTokensAtTemperatureSevenTenths() {
    http.post(
        "/api/think",
        jodo,
        "{\"intent\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    JsonNode sent = openai.requests().get(0).body();
    assertThat(sent.path("max_tokens").asInt()).isEqualTo(1000);
    assertThat(sent.path("temperature").asDouble()).isEqualTo(0.7);
    assertThat(sent.path("model").asText()).isEqualTo("gpt-4o-mini");
  }

  @Test
  void failingProviderFallsBackToTheNextAndTheFailureIsRecorded() throws Exception {
    anthropic.failWith(500, -1);
    openai.reply("from openai").usage(10, 5);
    Response response = think("code");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    assertThat(response.json().path("provider").asText()).isEqualTo("openai");
    List<String> rows = ledgerRows("SELECT provider, status, cost FROM budget_usage ORDER BY id");
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0)).isEqualTo("claude|failed|0.000000");
    assertThat(rows.get(1)).isEqualTo("openai|settled|0.000005");
    assertThat(ledgerRows("SELECT error FROM budget_usage WHERE status = 'failed'").get(0))
        .contains("500");
  }

  @Test
  void rateLimitedProviderFallsBackToo() {
    openai.failWith(429, 1);
    Response response = think("chat");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().path("provider").asText()).isEqualTo("ollama");
  }

  @Test
  void nothingToServeIs503NamingEachProvidersReason() {
    anthropic.failWith(500, -1);
    openai.failWith(429, -1);
    ollama.failWith(503, -1);
    Response response = think("code");
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.errorCode()).isEqualTo("no_provider");
    assertThat(response.errorMessage())
        .startsWith("no provider can serve this code request: ")
        .contains("claude/claude-sonnet-4-20250514: ")
        .contains("openai/gpt-4o-mini: ")
        .contains("ollama/llama3: ");
  }

  @Test
  void emergencyReserveIsOnlyForRepair() throws Exception {
    // $18.50 of claude's $20 spent: normal intents may use $18, repair all $20.
    sql(
        "INSERT INTO budget_usage (provider, model, cost, created_at) VALUES ('claude', 'claude-sonnet-4-20250514', 18.5, now())");
    Response code = think("code");
    assertThat(code.json().path("provider").asText()).isEqualTo("openai");
    Response repair = think("repair");
    assertThat(repair.json().path("provider").asText()).isEqualTo("claude");
  }

  @Test
  void unaffordableEverywhereFallsBackToTheCheapestUnlistedProvider() throws Exception {
    sql(
        "INSERT INTO budget_usage (provider, model, cost, created_at) VALUES ('claude', 'x', 20, now()), ('openai', 'x', 10, now())");
    Response repair = think("repair");
    assertThat(repair.status()).isEqualTo(200);
    assertThat(repair.json().path("provider").asText()).isEqualTo("ollama");
  }

  @Test
  void budgetReportsSeedFieldsFromUsage() throws Exception {
    sql(
        "INSERT INTO budget_usage (provider, model, cost, created_at) VALUES ('claude', 'x', 5.5, now()), ('openai', 'x', 0.25, now() - interval '40 days')");
    Response response = http.get("/api/budget", jodo);
    assertThat(response.status()).isEqualTo(200);
    JsonNode claude = response.json().path("providers").path("claude");
    assertThat(claude.path("monthly_budget").decimalValue()).isEqualByComparingTo("20");
    assertThat(claude.path("spent_this_month").decimalValue()).isEqualByComparingTo("5.5");
    assertThat(claude.path("remaining").decimalValue()).isEqualByComparingTo("14.5");
    assertThat(claude.path("emergency_reserve").decimalValue()).isEqualByComparingTo("2");
    assertThat(claude.path("available_for_normal_use").decimalValue()).isEqualByComparingTo("12.5");
    JsonNode free = response.json().path("providers").path("ollama");
    assertThat(free.path("monthly_budget").asInt()).isZero();
    assertThat(free.path("remaining").asText()).isEqualTo("unlimited");
    assertThat(response.json().path("total_spent_today").decimalValue())
        .isEqualByComparingTo("5.5");
    assertThat(response.json().path("budget_resets").asText())
        .matches("\\d{4}-\\d{2}-01T00:00:00Z");
  }

  @Test
  void badRequestsAre400NamingTheField() {
    assertThat(error("{\"intent\":\"dance\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
        .isEqualTo("intent: 'dance' is not an intent; use one of code, chat, quick, repair");
    assertThat(error("{\"intent\":\"chat\"}"))
        .isEqualTo("messages: missing; send at least one message");
    assertThat(error("{\"intent\":\"chat\",\"messages\":[]}"))
        .isEqualTo("messages: empty; send at least one message");
    assertThat(error("{\"intent\":\"chat\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}"))
        .isEqualTo("messages[0].role: 'robot' is not a role; use system, user, assistant or tool");
    assertThat(
            error(
                "{\"intent\":\"chat\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
        .isEqualTo("max_tokens: 0 must be at least 1");
    assertThat(
            error(
                "{\"intent\":\"chat\",\"temperature\":2.5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
        .isEqualTo("temperature: 2.5 is outside 0 to 2");
    assertThat(
            error(
                "{\"intent\":\"code\",\"max_tokens\":9000,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))
        .doesNotContain("max_tokens must"); // claude is skipped as too long; openai serves
  }

  @Test
  void maxTokensAboveTheOnlyModelsLimitIs503WithTheReason() {
    Response response =
        http.post(
            "/v1/chat/completions",
            jodo,
            "{\"model\":\"claude-sonnet-4-20250514\",\"max_tokens\":9000,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(response.status()).isEqualTo(503);
    assertThat(response.errorMessage())
        .contains("claude/claude-sonnet-4-20250514: max_tokens is above its limit of 8192");
  }

  @Test
  void quotaExceededIs429WithRetryAfter() {
    String limited =
        kernel.tokens().createAgentToken("limited", EnumSet.of(Scope.THINK)).token().value();
    String body = "{\"intent\":\"quick\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    assertThat(http.post("/api/think", limited, body).status()).isEqualTo(200);
    assertThat(http.post("/api/think", limited, body).status()).isEqualTo(200);
    Response third = http.post("/api/think", limited, body);
    assertThat(third.status()).isEqualTo(429);
    assertThat(third.errorCode()).isEqualTo("rate_limited");
    assertThat(third.errorMessage())
        .isEqualTo(
            "agent 'limited' made 2 requests in the last minute; its limit is 2 requests_per_minute");
    assertThat(third.header("Retry-After"))
        .hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isBetween(55, 60));
  }

  @Test
  void fullProviderQueueIs503WithRetryAfter() throws Exception {
    ollama.delay(Duration.ofMillis(2500));
    String body = "{\"intent\":\"quick\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    var slow =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> http.post("/api/think", jodo, body));
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (ollama.inFlight() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    ollama.delay(Duration.ZERO);
    // ollama's single slot is busy: the queue times out after 1 s; openai is not asked because a
    // busy queue is not a provider failure.
    Response queued = http.post("/api/think", jodo, body);
    assertThat(queued.status()).isEqualTo(503);
    assertThat(queued.errorCode()).isEqualTo("provider_busy");
    assertThat(queued.header("Retry-After")).contains("1");
    assertThat(slow.get().status()).isEqualTo(200);
    assertThat(ledgerRows("SELECT count(*) FROM budget_usage WHERE status = 'failed'"))
        .containsExactly("1");
  }

  @Test
  void openAiChatCompletionRoutesByModelAliasAndHeader() throws Exception {
    anthropic.reply("from claude");
    openai.reply("from openai");
    Response byModel = http.post("/v1/chat/completions", jodo, chat("gpt-4o-mini", false));
    assertThat(byModel.status()).as(byModel.body()).isEqualTo(200);
    JsonNode body = byModel.json();
    assertThat(body.path("object").asText()).isEqualTo("chat.completion");
    assertThat(body.path("model").asText()).isEqualTo("gpt-4o-mini");
    assertThat(body.path("choices").get(0).path("message").path("content").asText())
        .isEqualTo("from openai");
    assertThat(body.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
    assertThat(body.path("usage").path("total_tokens").asInt()).isPositive();

    Response byAlias = http.post("/v1/chat/completions", jodo, chat("jodo:code", false));
    assertThat(byAlias.json().path("model").asText()).isEqualTo("claude-sonnet-4-20250514");

    var request =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + kernel.port() + "/v1/chat/completions"))
            .header("Authorization", "Bearer " + jodo)
            .header("X-Jodo-Intent", "code")
            .POST(HttpRequest.BodyPublishers.ofString(chat("gpt-4o-mini", false)))
            .build();
    assertThat(send(request).body()).contains("\"model\":\"claude-sonnet-4-20250514\"");

    Response unknown = http.post("/v1/chat/completions", jodo, chat("gpt-9", false));
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.errorMessage())
        .isEqualTo(
            "model: 'gpt-9' is not a configured model; use one of GET /v1/models, or jodo:<intent>");
  }

  @Test
  void toolsAndToolCallsPassThroughTranslatedForAnthropic() throws Exception {
    anthropic.toolCall("toolu_1", "get_weather", "{\"city\":\"Oslo\"}");
    String request =
        """
        {"model": "jodo:code",
         "messages": [{"role": "user", "content": "weather?"}],
         "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}
        """;
    Response response = http.post("/v1/chat/completions", jodo, request);
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    JsonNode choice = response.json().path("choices").get(0);
    assertThat(choice.path("finish_reason").asText()).isEqualTo("tool_calls");
    JsonNode call = choice.path("message").path("tool_calls").get(0);
    assertThat(call.path("id").asText()).isEqualTo("toolu_1");
    assertThat(call.path("function").path("name").asText()).isEqualTo("get_weather");
    assertThat(
            MAPPER.readTree(call.path("function").path("arguments").asText()).path("city").asText())
        .isEqualTo("Oslo");
    JsonNode sentTool = anthropic.requests().get(0).body().path("tools").get(0);
    assertThat(sentTool.path("name").asText()).isEqualTo("get_weather");
    assertThat(sentTool.path("input_schema").path("type").asText()).isEqualTo("object");
  }

  @Test
  void streamingSendsChunksThenUsageThenDoneAndSettlesReportedUsage() throws Exception {
    anthropic.streamChunks(List.of("Hel", "lo ", "world")).usage(12, 3);
    HttpResponse<String> response = send(streamRequest("jodo:code"));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
    List<JsonNode> events = new ArrayList<>();
    for (String line : response.body().split("\n")) {
      if (line.startsWith("data: ") && !line.equals("data: [DONE]")) {
        events.add(MAPPER.readTree(line.substring(6)));
      }
    }
    assertThat(response.body().strip()).endsWith("data: [DONE]");
    StringBuilder text = new StringBuilder();
    events.forEach(
        e -> text.append(e.path("choices").path(0).path("delta").path("content").asText("")));
    assertThat(text.toString()).isEqualTo("Hello world");
    assertThat(events.get(0).path("choices").get(0).path("delta").path("role").asText())
        .isEqualTo("assistant");
    JsonNode finish = events.get(events.size() - 2);
    assertThat(finish.path("choices").get(0).path("finish_reason").asText()).isEqualTo("stop");
    JsonNode usage = events.get(events.size() - 1);
    assertThat(usage.path("choices")).isEmpty();
    assertThat(usage.path("usage").path("prompt_tokens").asInt()).isEqualTo(12);
    assertThat(usage.path("usage").path("completion_tokens").asInt()).isEqualTo(3);
    assertThat(ledgerRows("SELECT tokens_in, tokens_out, cost, status FROM budget_usage"))
        .containsExactly("12|3|0.000081|settled");
  }

  @Test
  void clientDisconnectMidStreamAbortsUpstreamAndBillsCountedTokens() throws Exception {
    List<String> pieces = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      pieces.add("word" + i + " ");
    }
    anthropic.streamChunks(pieces).chunkDelay(Duration.ofMillis(40)).usage(20, 50);
    HttpClient client = HttpClient.newHttpClient();
    HttpResponse<InputStream> response =
        client.send(streamRequest("jodo:code"), HttpResponse.BodyHandlers.ofInputStream());
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      int contentEvents = 0;
      String line;
      while (contentEvents < 4 && (line = reader.readLine()) != null) {
        if (line.contains("\"content\":\"word")) {
          contentEvents++;
        }
      }
    }
    client.close();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline
        && (anthropic.streamsAbortedByClient() == 0
            || ledgerRows("SELECT status FROM budget_usage WHERE status <> 'reserved'")
                .isEmpty())) {
      Thread.sleep(20);
    }
    assertThat(anthropic.streamsAbortedByClient()).isEqualTo(1);
    List<String> row = ledgerRows("SELECT status, tokens_out FROM budget_usage");
    assertThat(row).hasSize(1);
    String[] parts = row.get(0).split("\\|");
    assertThat(parts[0]).isEqualTo("settled");
    assertThat(Integer.parseInt(parts[1])).as("counted output tokens").isBetween(4, 49);
  }

  @Test
  void streamedToolCallsArriveAsOpenAiDeltas() throws Exception {
    openai.toolCall("call_7", "lookup", "{\"q\":\"jodo\"}");
    HttpResponse<String> response = send(streamRequest("gpt-4o-mini"));
    assertThat(response.statusCode()).isEqualTo(200);
    String id = null;
    String name = null;
    StringBuilder arguments = new StringBuilder();
    String finish = null;
    for (String line : response.body().split("\n")) {
      if (!line.startsWith("data: {")) {
        continue;
      }
      JsonNode choice = MAPPER.readTree(line.substring(6)).path("choices").path(0);
      JsonNode call = choice.path("delta").path("tool_calls").path(0);
      if (call.has("id")) {
        id = call.get("id").asText();
      }
      if (call.path("function").has("name")) {
        name = call.path("function").get("name").asText();
      }
      arguments.append(call.path("function").path("arguments").asText(""));
      if (choice.hasNonNull("finish_reason")) {
        finish = choice.get("finish_reason").asText();
      }
    }
    assertThat(id).isEqualTo("call_7");
    assertThat(name).isEqualTo("lookup");
    assertThat(MAPPER.readTree(arguments.toString()).path("q").asText()).isEqualTo("jodo");
    assertThat(finish).isEqualTo("tool_calls");
  }

  @Test
  void upstreamBreakingMidStreamEndsTheStreamWithAnErrorEvent() throws Exception {
    openai
        .streamChunks(List.of("a ", "b ", "c ", "d ", "e ", "f "))
        .chunkDelay(Duration.ofMillis(30))
        .dropStreamAfter(4);
    HttpResponse<String> response = send(streamRequest("gpt-4o-mini"));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).contains("\"error\":{").contains("upstream_failed");
    assertThat(response.body().strip()).endsWith("data: [DONE]");
    // Started streams cannot fall back: ollama was never asked.
    assertThat(ollama.requests()).isEmpty();
    assertThat(ledgerRows("SELECT status FROM budget_usage")).containsExactly("failed");
  }

  @Test
  void embeddingsRouteToAnEmbedModelAndAreBilled() throws Exception {
    openai.embeddingDimensions(16);
    Response response =
        http.post("/v1/embeddings", jodo, "{\"model\":\"jodo:embed\",\"input\":[\"one\",\"two\"]}");
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    JsonNode body = response.json();
    assertThat(body.path("model").asText()).isEqualTo("text-embedding-3-small");
    assertThat(body.path("data")).hasSize(2);
    assertThat(body.path("data").get(1).path("index").asInt()).isEqualTo(1);
    assertThat(body.path("data").get(0).path("embedding")).hasSize(16);
    assertThat(ledgerRows("SELECT provider, intent, status FROM budget_usage"))
        .containsExactly("openai|embed|settled");
  }

  @Test
  void modelsListsConfiguredModelsAndIntentAliases() {
    Response response = http.get("/v1/models", jodo);
    List<String> ids = new ArrayList<>();
    response.json().path("data").forEach(m -> ids.add(m.path("id").asText()));
    assertThat(ids)
        .contains("claude-sonnet-4-20250514", "gpt-4o-mini", "llama3", "jodo:code", "jodo:embed");
  }

  @Test
  void providerKeysNeverReachTheCaller() {
    anthropic.failWith(401, -1);
    openai.failWith(401, -1);
    ollama.failWith(500, -1);
    Response response = think("code");
    assertThat(response.body()).doesNotContain("sk-ant-test").doesNotContain("sk-openai-test");
  }

  private static Response think(String intent) {
    return http.post(
        "/api/think",
        jodo,
        "{\"intent\":\"" + intent + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
  }

  private static String error(String body) {
    Response response = http.post("/api/think", jodo, body);
    if (response.status() == 200) {
      return "200";
    }
    assertThat(response.status()).isEqualTo(400);
    return response.errorMessage();
  }

  private static String chat(String model, boolean stream) {
    return "{\"model\":\""
        + model
        + "\",\"stream\":"
        + stream
        + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}";
  }

  private static HttpRequest streamRequest(String model) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + kernel.port() + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + jodo)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(chat(model, true)))
        .build();
  }

  private static HttpResponse<String> send(HttpRequest request) throws Exception {
    return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }

  static void sql(String statement) throws Exception {
    try (Connection c = kernel.database().dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  /**
   * {@link #rows} once the kernel's ledger writes so far are committed: calls are written after
   * their response.
   */
  static List<String> ledgerRows(String query) {
    kernel.gateway().flushLedger();
    return rows(query);
  }

  static List<String> rows(String query) {
    List<String> rows = new ArrayList<>();
    try (Connection c = kernel.database().dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= columns; i++) {
          Object value = rs.getObject(i);
          row.append(i > 1 ? "|" : "")
              .append(value instanceof BigDecimal d ? d.toPlainString() : String.valueOf(value));
        }
        rows.add(row.toString());
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return rows;
  }
}
