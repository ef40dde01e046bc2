package dev.jodo.kernel.memory;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.EnumSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index as a follower of Postgres: other kernels' writes, crashes, model changes. */
class MemoryReplicationTest {
  @TempDir Path temp;
  DatabaseTarget.External database;

  @BeforeEach
  void database() {
    database = TestPostgres.freshDatabase(MemoryReplicationTest.class);
  }

  @AfterEach
  void drop() {
    TestPostgres.drop(database);
  }

  private Kernel start(String name) {
    KernelConfig config = TestConfigs.kernelConfig(temp.resolve(name), database);
    return Kernel.start(config, Kernel.Options.defaults());
  }

  private static JsonNode waitForHit(TestHttp http, String token, String query, String expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      last =
          http.post(
                  "/api/memory/search",
                  token,
                  "{\"query\":" + MemoryApiTest.quote(query) + ",\"limit\":3}")
              .json();
      if (last.toString().contains(expected)) {
        return last;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("not found within 5 s: " + expected + " in " + last);
  }

  @Test
  void writeOnOneKernelIsSearchableOnTheOtherWithinTwoSeconds() throws Exception {
    try (Kernel a = start("a");
        Kernel b = start("b")) {
      String token = a.tokens().createAgentToken("jodo", EnumSet.of(Scope.MEMORY)).token().value();
      TestHttp httpA = new TestHttp(a.port());
      TestHttp httpB = new TestHttp(b.port());
      String stored =
          httpA
              .post("/api/memory/store", token, "{\"content\":\"The garden gate squeaks\"}")
              .json()
              .path("id")
              .asText();
      long start = System.nanoTime();
      waitForHit(httpB, token, "which gate makes noise?", stored);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));

      // A delete on B vanishes from A's searches too.
      httpB.delete("/api/memory/" + stored, token);
      long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      while (System.nanoTime() < deadline
          && httpA
              .post("/api/memory/search", token, "{\"query\":\"garden gate\"}")
              .body()
              .contains(stored)) {
        Thread.sleep(50);
      }
      assertThat(httpA.post("/api/memory/search", token, "{\"query\":\"garden gate\"}").body())
          .doesNotContain(stored);
    }
  }

  @Test
  void writesCommittedWhileTheIndexWasDownAreCaughtUpOnRestart() throws Exception {
    String token;
    String id;
    try (Kernel a = start("a")) {
      token = a.tokens().createAgentToken("jodo", EnumSet.of(Scope.MEMORY)).token().value();
      id =
          new TestHttp(a.port())
              .post("/api/memory/store", token, "{\"content\":\"The boat is moored at pier 9\"}")
              .json()
              .path("id")
              .asText();
      // As if the kernel died right after committing to Postgres: a row the index never saw,
      // written exactly as the store writes it (embedding copied from the first memory).
      try (Connection c = a.database().dataSource().getConnection();
          Statement s = c.createStatement()) {
        s.execute(
            "INSERT INTO memories (id, namespace, content, tags, embedding_model, embedding, embedding_dims, created_at, seq)"
                + " SELECT 'mem_crashcase', namespace, 'Pier 9 is in the north harbour', '{}', embedding_model,"
                + " embedding, embedding_dims, now(), nextval('memories_seq') FROM memories WHERE id = '"
                + id
                + "'");
      }
    }
    try (Kernel again = start("a")) {
      JsonNode found =
          waitForHit(new TestHttp(again.port()), token, "where is the boat?", "mem_crashcase");
      assertThat(found.toString()).contains(id);
    }
  }

  @Test
  void mixedModelsAreRefusedUntilReindexed() throws Exception {
    try (Kernel a = start("a")) {
      String admin = a.firstBootAdminToken().orElseThrow().value();
      String token = a.tokens().createAgentToken("jodo", EnumSet.of(Scope.MEMORY)).token().value();
      TestHttp http = new TestHttp(a.port());
      String id =
          http.post("/api/memory/store", token, "{\"content\":\"Tea before coffee\"}")
              .json()
              .path("id")
              .asText();
      // A memory embedded by another model (as after a change of memory.embedder).
      try (Connection c = a.database().dataSource().getConnection();
          Statement s = c.createStatement()) {
        s.execute(
            "UPDATE memories SET embedding_model = 'openai/text-embedding-3-small',"
                + " seq = nextval('memories_seq') WHERE id = '"
                + id
                + "'");
        s.execute(
            "INSERT INTO memories (id, namespace, content, tags, embedding_model, embedding, embedding_dims, created_at, seq)"
                + " SELECT 'mem_second', namespace, 'Coffee after lunch', '{}', 'all-minilm-l6-v2',"
                + " embedding, embedding_dims, now(), nextval('memories_seq') FROM memories WHERE id = '"
                + id
                + "'");
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
      TestHttp.Response refused;
      do {
        Thread.sleep(50);
        refused = http.post("/api/memory/search", token, "{\"query\":\"tea\"}");
      } while (refused.status() != 409 && System.nanoTime() < deadline);
      assertThat(refused.status()).isEqualTo(409);
      assertThat(refused.errorMessage())
          .isEqualTo(
              "namespace 'jodo' holds memories embedded with different models (all-minilm-l6-v2,"
                  + " openai/text-embedding-3-small); their vectors cannot be compared. Run"
                  + " `./jodo memory reindex` to re-embed them with all-minilm-l6-v2");

      TestHttp.Response reindex = http.post("/api/memory/reindex", admin, "");
      assertThat(reindex.status()).isEqualTo(200);
      assertThat(reindex.body())
          .contains("\"progress\":\"1 memories to re-embed with all-minilm-l6-v2\"")
          .contains("\"done\":true");
      JsonNode found = http.post("/api/memory/search", token, "{\"query\":\"tea\"}").json();
      assertThat(found.path("results").get(0).path("id").asText()).isEqualTo(id);
    }
  }
}
