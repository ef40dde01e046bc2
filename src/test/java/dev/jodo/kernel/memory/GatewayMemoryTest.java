package dev.jodo.kernel.memory;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** memory.embedder: gateway — 1536-dimension vectors from a provider, budgeted and costed. */
class GatewayMemoryTest {
  static final String CONFIG =
      """
      providers:
        openai:
          base_url: "${OPENAI_URL}"
          api_key: "sk-test"
          models:
            text-embedding-3-small: {input_cost_per_1m_tokens: 0.02, output_cost_per_1m_tokens: 0, capabilities: [embed]}
          monthly_budget: 5.00
      routing:
        intent_preferences:
          embed: [openai]
      memory:
        embedder: gateway
        gateway_model: "jodo:embed"
      """;

  @TempDir Path temp;

  @Test
  void providerEmbeddingsOf1536DimensionsAreStoredSearchedAndBilled() throws Exception {
    DatabaseTarget.External database = TestPostgres.freshDatabase(GatewayMemoryTest.class);
    try (FakeProvider openai = FakeProvider.openAi("sk-test")) {
      openai.embeddingDimensions(1536).usage(1000, 0);
      try (Kernel kernel =
          Kernel.start(
              TestConfigs.kernelConfig(
                  temp, database, CONFIG, Map.of("OPENAI_URL", openai.baseUrl())),
              Kernel.Options.defaults())) {
        String token =
            kernel.tokens().createAgentToken("jodo", EnumSet.of(Scope.MEMORY)).token().value();
        TestHttp http = new TestHttp(kernel.port());
        TestHttp.Response stored =
            http.post(
                "/api/memory/store", token, "{\"content\":\"The printer is on the second floor\"}");
        assertThat(stored.status()).as(stored.body()).isEqualTo(200);
        assertThat(stored.json().path("embedding_dimensions").asInt()).isEqualTo(1536);
        assertThat(stored.json().path("cost").decimalValue()).isPositive();

        // The fake's vectors hash the text, so the same text finds itself with cosine 1.
        JsonNode found = null;
        for (int i = 0; i < 40; i++) {
          found =
              http.post(
                      "/api/memory/search",
                      token,
                      "{\"query\":\"The printer is on the second floor\",\"mode\":\"vector\"}")
                  .json();
          if (found.path("results").size() > 0) {
            break;
          }
          Thread.sleep(50);
        }
        assertThat(found.path("results").get(0).path("similarity").asDouble()).isEqualTo(1.0);
        assertThat(found.path("cost").decimalValue()).isPositive();
      }
    } finally {
      TestPostgres.drop(database);
    }
  }
}
