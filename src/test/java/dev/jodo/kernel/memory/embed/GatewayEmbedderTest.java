package dev.jodo.kernel.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.gateway.GatewayModule;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.platform.http.ApiException;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real gateway (routing, budget ledger on Postgres) in front of a fake OpenAI over HTTP. */
class GatewayEmbedderTest {
  static final String CONFIG =
      """
      providers:
        openai:
          base_url: "${OPENAI_URL}"
          api_key: "${OPENAI_API_KEY}"
          models:
            gpt-4o-mini: {input_cost_per_1m_tokens: 0.15, output_cost_per_1m_tokens: 0.60, capabilities: [chat], quality: 6}
            text-embedding-3-small: {input_cost_per_1m_tokens: 0.02, output_cost_per_1m_tokens: 0, capabilities: [embed], quality: 5}
            text-embedding-3-large: {input_cost_per_1m_tokens: 0.13, output_cost_per_1m_tokens: 0, capabilities: [embed], quality: 4}
          monthly_budget: 10.00
          emergency_reserve: 1.00
          timeout_seconds: 5
      routing:
        intent_preferences:
          chat:  [openai]
          embed: [openai]
      quotas:
        agents:
          stingy: {requests_per_minute: 1}
      """;
  private static final Principal ADA = new Principal("ada", false, EnumSet.of(Scope.MEMORY));

  @TempDir static Path temp;
  static FakeProvider openai;
  static DatabaseTarget.External target;
  static Database database;
  static GatewayModule module;
  static Gateway gateway;

  @BeforeAll
  static void start() {
    openai = FakeProvider.openAi("sk-openai-test");
    target = TestPostgres.freshDatabase(GatewayEmbedderTest.class);
    KernelConfig config =
        TestConfigs.kernelConfig(
            temp,
            target,
            CONFIG,
            Map.of("OPENAI_URL", openai.baseUrl(), "OPENAI_API_KEY", "sk-openai-test"));
    database = Database.open(target, null, "embed-test");
    database.migrate(Database.KERNEL_MIGRATIONS);
    module =
        new GatewayModule(
            config,
            database.dataSource(),
            Clock.systemUTC(),
            new SimpleMeterRegistry(),
            Json.newMapper());
    gateway = module.gateway();
  }

  @AfterAll
  static void stop() {
    module.close();
    database.close();
    openai.close();
    TestPostgres.drop(target);
  }

  @BeforeEach
  void reset() throws SQLException {
    openai.reset();
    gateway.returnLeases();
    try (Connection c = database.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE budget_usage, budget_months, budget_leases, agent_requests");
    }
  }

  @Test
  void theIntentAliasIsServedWith1536DimensionUnitVectors() {
    openai.embeddingDimensions(1536);
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "jodo:embed");
    assertThat(embedder.model()).isEqualTo("jodo:embed");

    Embedder.Embedded done =
        embedder.embed(ADA, List.of("The human prefers concise responses", "Ada is vegetarian"));

    assertThat(done.vectors()).hasSize(2);
    for (float[] vector : done.vectors()) {
      assertThat(vector).hasSize(1536);
      assertThat(Embedders.cosine(vector, vector)).isCloseTo(1.0, within(1e-6));
      assertThat(norm(vector)).isCloseTo(1.0, within(1e-5));
    }
    assertThat(done.model()).isEqualTo("openai/text-embedding-3-small");
    assertThat(embedder.model()).isEqualTo("openai/text-embedding-3-small");
    assertThat(openai.requests()).hasSize(1);
    assertThat(openai.requests().get(0).path()).isEqualTo("/v1/embeddings");
    assertThat(openai.requests().get(0).body().path("model").asText())
        .isEqualTo("text-embedding-3-small");
  }

  @Test
  void theCostIsTheGatewaysAndTheCallerIsBilledUnderTheEmbedIntent() throws SQLException {
    openai.embeddingDimensions(1536).usage(1200, 0);
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "jodo:embed");

    Embedder.Embedded done = embedder.embed(ADA, List.of("The project deadline is Friday"));

    // 1200 tokens at $0.02 per million
    assertThat(done.cost()).isEqualByComparingTo(new BigDecimal("0.000024"));
    assertThat(rows("SELECT provider, model, intent, status, tokens_in, cost, requested_by"))
        .containsExactly("openai|text-embedding-3-small|embed|settled|1200|0.000024|ada");
  }

  @Test
  void vectorsComeBackInInputOrder() {
    openai.embeddingDimensions(1536);
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "jodo:embed");
    List<String> texts =
        List.of("The human's name is Ada", "The server's backup runs at 3am", "Ada is vegetarian");

    // The fake lists embeddings newest first; only each item's index says whose it is.
    List<float[]> together = embedder.embed(ADA, texts).vectors();

    for (int i = 0; i < texts.size(); i++) {
      float[] alone = embedder.embed(ADA, List.of(texts.get(i))).vectors().get(0);
      assertThat(together.get(i)).as(texts.get(i)).containsExactly(alone);
    }
  }

  @Test
  void aNamedModelIsUsedAndRecordedWithItsProvider() throws SQLException {
    openai.embeddingDimensions(3072);
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "text-embedding-3-large");
    assertThat(embedder.model()).isEqualTo("text-embedding-3-large");

    Embedder.Embedded done = embedder.embed(ADA, List.of("Ada's cat is called Turing"));

    assertThat(done.vectors().get(0)).hasSize(3072);
    assertThat(done.model()).isEqualTo("openai/text-embedding-3-large");
    assertThat(embedder.model()).isEqualTo("openai/text-embedding-3-large");
    assertThat(openai.requests().get(0).body().path("model").asText())
        .isEqualTo("text-embedding-3-large");
    assertThat(rows("SELECT model, intent")).containsExactly("text-embedding-3-large|embed");
  }

  @Test
  void anUnknownModelIsTheGateways400() {
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "text-embedding-9");

    assertThatThrownBy(() -> embedder.embed(ADA, List.of("The human's name is Ada")))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessage(
            "model: 'text-embedding-9' is not a configured model; use one of GET /v1/models, or"
                + " jodo:<intent>");
    assertThat(embedder.model()).isEqualTo("text-embedding-9");
    assertThat(openai.requests()).isEmpty();
  }

  @Test
  void aFailingProviderIsTheGateways503AndNothingIsBilled() throws SQLException {
    openai.failWith(500, -1);
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "jodo:embed");

    assertThatThrownBy(() -> embedder.embed(ADA, List.of("The human's name is Ada")))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(503);
              assertThat(e.code()).isEqualTo("no_provider");
            })
        .hasMessage(
            "no provider can serve this embed request: openai/text-embedding-3-small: openai"
                + " returned HTTP 500 for POST /v1/embeddings: internal server error (injected)");
    assertThat(rows("SELECT status, cost")).containsExactly("failed|0.000000");
  }

  @Test
  void aRejectedInputIsTheGateways400() {
    openai.failWith(400, 1);
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "jodo:embed");

    assertThatThrownBy(() -> embedder.embed(ADA, List.of("The human's name is Ada")))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.code()).isEqualTo("upstream_rejected");
            })
        .hasMessage(
            "openai: openai returned HTTP 400 for POST /v1/embeddings: invalid request (injected)");
  }

  @Test
  void theCallersQuotaApplies() {
    openai.embeddingDimensions(8);
    Principal stingy = new Principal("stingy", false, EnumSet.of(Scope.MEMORY));
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "jodo:embed");
    embedder.embed(stingy, List.of("first"));

    assertThatThrownBy(() -> embedder.embed(stingy, List.of("second")))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(429))
        .hasMessage(
            "agent 'stingy' made 1 requests in the last minute; its limit is 1"
                + " requests_per_minute");
    assertThat(openai.requests()).hasSize(1);
  }

  @Test
  void blankTextIsRefusedBeforeAnythingIsSpent() throws SQLException {
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "jodo:embed");

    assertThatThrownBy(() -> embedder.embed(ADA, List.of("Ada is vegetarian", " ")))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessage(
            "cannot embed text 2 of 2: it is empty or whitespace, so there is nothing to embed");
    assertThat(openai.requests()).isEmpty();
    assertThat(rows("SELECT status")).isEmpty();
  }

  @Test
  void anEmptyListCallsNobody() {
    GatewayEmbedder embedder = new GatewayEmbedder(gateway, "jodo:embed");

    Embedder.Embedded done = embedder.embed(ADA, List.of());

    assertThat(done.vectors()).isEmpty();
    assertThat(done.cost()).isEqualByComparingTo(BigDecimal.ZERO);
    assertThat(openai.requests()).isEmpty();
  }

  @Test
  void anAliasOfAnotherIntentIsRefusedAtConstruction() {
    assertThatThrownBy(() -> new GatewayEmbedder(gateway, "jodo:chat"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "memory.gateway_model: 'jodo:chat' cannot embed; use jodo:embed or the name of a"
                + " configured embedding model");
  }

  /**
   * budget_usage rows as "a|b|c", oldest first; {@code select} is the SELECT list. Calls are
   * written just after they return, so this first waits for the gateway's ledger writes so far.
   */
  private static List<String> rows(String select) throws SQLException {
    gateway.flushLedger();
    List<String> rows = new ArrayList<>();
    try (Connection c = database.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(select + " FROM budget_usage ORDER BY id")) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          values.add(rs.getString(i));
        }
        rows.add(String.join("|", values));
      }
    }
    return rows;
  }

  private static double norm(float[] vector) {
    double sum = 0;
    for (float v : vector) {
      sum += (double) v * v;
    }
    return Math.sqrt(sum);
  }
}
