package dev.jodo.kernel.memory;

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
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryApiTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  @TempDir static Path temp;
  static DatabaseTarget.External database;
  static Kernel kernel;
  static TestHttp http;
  static String jodo;
  static String other;
  static String admin;

  @BeforeAll
  static void start() {
    database = TestPostgres.freshDatabase(MemoryApiTest.class);
    KernelConfig config = TestConfigs.kernelConfig(temp.resolve("a"), database);
    kernel = Kernel.start(config, Kernel.Options.defaults());
    http = new TestHttp(kernel.port());
    admin = kernel.firstBootAdminToken().orElseThrow().value();
    jodo =
        kernel
            .tokens()
            .createAgentToken("jodo", EnumSet.of(Scope.MEMORY, Scope.STATUS))
            .token()
            .value();
    other = kernel.tokens().createAgentToken("other", EnumSet.of(Scope.MEMORY)).token().value();
  }

  @AfterAll
  static void stop() {
    kernel.close();
    TestPostgres.drop(database);
  }

  @BeforeEach
  void forgetEverything() {
    for (String token : List.of(jodo, other)) {
      http.post("/api/memory/forget", token, "{\"from\":\"1970-01-01T00:00:00Z\"}");
    }
  }

  static String store(String token, String content, String... tags) {
    StringBuilder json =
        new StringBuilder("{\"content\":").append(quote(content)).append(",\"tags\":[");
    for (int i = 0; i < tags.length; i++) {
      json.append(i > 0 ? "," : "").append(quote(tags[i]));
    }
    json.append("],\"source\":\"conversation\"}");
    Response response = http.post("/api/memory/store", token, json.toString());
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    return response.json().path("id").asText();
  }

  static JsonNode search(String token, String body) {
    Response response = http.post("/api/memory/search", token, body);
    assertThat(response.status()).as(response.body()).isEqualTo(200);
    return response.json();
  }

  static String quote(String text) {
    try {
      return MAPPER.writeValueAsString(text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void storeAndSearchInSeedShapeFindTheRightMemory() throws Exception {
    Response stored =
        http.post(
            "/api/memory/store",
            jodo,
            "{\"content\":\"The human prefers concise responses\",\"tags\":[\"preference\",\"communication\"],\"source\":\"conversation\"}");
    assertThat(stored.status()).isEqualTo(200);
    assertThat(stored.json().path("id").asText()).startsWith("mem_");
    assertThat(stored.json().path("embedding_dimensions").asInt()).isEqualTo(384);
    assertThat(stored.json().path("cost").asDouble()).isZero();
    assertThat(stored.json().path("stored").asBoolean()).isTrue();
    store(jodo, "The server backup runs every night at 3am", "ops");
    store(jodo, "Ada's favourite colour is green", "preference");
    store(jodo, "The project deadline is next Friday", "work");

    JsonNode found =
        search(jodo, "{\"query\":\"how does the human like me to communicate?\",\"limit\":2}");
    JsonNode first = found.path("results").get(0);
    assertThat(first.path("id").asText()).isEqualTo(stored.json().path("id").asText());
    assertThat(first.path("content").asText()).isEqualTo("The human prefers concise responses");
    assertThat(first.path("similarity").asDouble()).isBetween(0.3, 1.0);
    assertThat(first.path("tags").toString()).isEqualTo("[\"preference\",\"communication\"]");
    assertThat(first.path("created_at").asText()).endsWith("Z");
    assertThat(found.path("results")).hasSize(2);
    assertThat(found.path("cost").asDouble()).isZero();
  }

  @Test
  void tagFilterNeedsEveryTagAndModesAgree() {
    store(jodo, "Likes green tea in the morning", "preference", "drink");
    store(jodo, "Likes green shirts", "preference", "clothes");
    store(jodo, "Green is the colour of the dashboard theme", "ui");
    JsonNode filtered =
        search(jodo, "{\"query\":\"green\",\"tags\":[\"preference\",\"drink\"],\"limit\":10}");
    assertThat(filtered.path("results")).hasSize(1);
    assertThat(filtered.path("results").get(0).path("content").asText())
        .isEqualTo("Likes green tea in the morning");
    for (String mode : List.of("hybrid", "vector", "text")) {
      JsonNode results =
          search(
              jodo, "{\"query\":\"dashboard theme colour\",\"mode\":\"" + mode + "\",\"limit\":1}");
      assertThat(results.path("results").get(0).path("content").asText())
          .as(mode)
          .isEqualTo("Green is the colour of the dashboard theme");
    }
  }

  @Test
  void namespacesAreIsolatedAndGuarded() {
    store(jodo, "Jodo's secret: the launch code is 1234");
    JsonNode others = search(other, "{\"query\":\"launch code\"}");
    assertThat(others.path("results")).isEmpty();

    Response forbidden =
        http.post("/api/memory/search", other, "{\"query\":\"x\",\"namespace\":\"jodo\"}");
    assertThat(forbidden.status()).isEqualTo(403);
    assertThat(forbidden.errorMessage())
        .isEqualTo("agent 'other' may not read or write namespace 'jodo'");

    JsonNode asAdmin = search(admin, "{\"query\":\"launch code\",\"namespace\":\"jodo\"}");
    assertThat(asAdmin.path("results").get(0).path("content").asText()).contains("1234");
    String id = asAdmin.path("results").get(0).path("id").asText();
    assertThat(http.get("/api/memory/" + id, other).status()).isEqualTo(403);
    assertThat(http.delete("/api/memory/" + id, other).status()).isEqualTo(403);
    assertThat(http.get("/api/memory/" + id, jodo).json().path("content").asText())
        .contains("1234");
  }

  @Test
  void deleteForgetAndExport() throws Exception {
    String keep = store(jodo, "Keep: the cat is called Miso", "pets");
    String drop = store(jodo, "Drop: the password hint is blue", "secret");
    store(jodo, "Drop too: another secret", "secret");

    Response deleted = http.delete("/api/memory/" + drop, jodo);
    assertThat(deleted.status()).isEqualTo(200);
    assertThat(http.get("/api/memory/" + drop, jodo).status()).isEqualTo(404);
    assertThat(search(jodo, "{\"query\":\"password hint\",\"limit\":10}").toString())
        .doesNotContain(drop);

    Response forgot = http.post("/api/memory/forget", jodo, "{\"tags\":[\"secret\"]}");
    assertThat(forgot.json().path("forgotten").asInt()).isEqualTo(1);
    assertThat(search(jodo, "{\"query\":\"secret\",\"limit\":10}").path("results")).hasSize(1);

    Response export = http.get("/api/memory/export", jodo);
    assertThat(export.header("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/x-ndjson"));
    List<JsonNode> lines = new ArrayList<>();
    for (String line : export.body().split("\n")) {
      lines.add(MAPPER.readTree(line));
    }
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0).path("id").asText()).isEqualTo(keep);
    assertThat(lines.get(0).path("tags").toString()).isEqualTo("[\"pets\"]");

    // Forgotten means gone from Postgres too: only a tombstone is left.
    try (Connection c = kernel.database().dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT content, embedding FROM memories WHERE id = '" + drop + "'")) {
      rs.next();
      assertThat(rs.getString(1)).isNull();
      assertThat(rs.getArray(2)).isNull();
    }
    assertThat(
            http.get("/api/status", jodo).json().path("database").path("memories_stored").asInt())
        .isEqualTo(1);
  }

  @Test
  void badInputsAre400NamingTheField() {
    assertThat(error("/api/memory/store", "{\"content\":\"   \"}"))
        .isEqualTo("content: missing or empty; send the text to remember");
    assertThat(error("/api/memory/store", "{\"content\":" + quote("x".repeat(32 * 1024 + 1)) + "}"))
        .isEqualTo("content: 32769 bytes is over the 32 KiB limit; split it into smaller memories");
    StringBuilder many = new StringBuilder("[");
    for (int i = 0; i < 33; i++) {
      many.append(i > 0 ? "," : "").append("\"t").append(i).append("\"");
    }
    assertThat(error("/api/memory/store", "{\"content\":\"x\",\"tags\":" + many + "]}"))
        .isEqualTo("tags: 33 tags; at most 32");
    assertThat(
            error(
                "/api/memory/store",
                "{\"content\":\"x\",\"tags\":[" + quote("t".repeat(65)) + "]}"))
        .isEqualTo("tags[0]: longer than 64 characters");
    assertThat(error("/api/memory/search", "{\"query\":\"x\",\"limit\":0}"))
        .isEqualTo("limit: 0 is outside 1 to 100");
    assertThat(error("/api/memory/search", "{\"query\":\"x\",\"limit\":101}"))
        .isEqualTo("limit: 101 is outside 1 to 100");
    assertThat(error("/api/memory/search", "{\"query\":\"x\",\"min_similarity\":1.5}"))
        .isEqualTo("min_similarity: 1.5 is outside -1 to 1");
    assertThat(error("/api/memory/search", "{\"query\":\"x\",\"mode\":\"fuzzy\"}"))
        .isEqualTo("mode: 'fuzzy' is not hybrid, vector or text");
    assertThat(error("/api/memory/forget", "{}")).startsWith("say what to forget");
  }

  private static String error(String path, String body) {
    Response response = http.post(path, jodo, body);
    assertThat(response.status()).as(response.body()).isEqualTo(400);
    return response.errorMessage();
  }
}
