package dev.jodo.kernel.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.auth.AdminTokenFile;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestHttp.Response;
import dev.jodo.kernel.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelApiTest {
  @TempDir static Path temp;
  private static DatabaseTarget.External database;
  private static Kernel kernel;
  private static TestHttp http;
  private static String admin;

  @BeforeAll
  static void startKernel() {
    database = TestPostgres.freshDatabase(KernelApiTest.class);
    KernelConfig config = TestConfigs.kernelConfig(temp, database);
    kernel = Kernel.start(config, Kernel.Options.defaults());
    http = new TestHttp(kernel.port());
    admin = kernel.firstBootAdminToken().orElseThrow().value();
  }

  @AfterAll
  static void stopKernel() {
    if (kernel != null) {
      kernel.close();
    }
    TestPostgres.drop(database);
  }

  private String agentToken(String agent, String scopes) {
    Response created =
        http.post(
            "/api/tokens", admin, "{\"agent\":\"" + agent + "\",\"scopes\":[" + scopes + "]}");
    assertThat(created.status()).isEqualTo(201);
    return created.json().path("token").asText();
  }

  @Test
  void healthzIsOpen() {
    Response response = http.get("/healthz", null);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().path("status").asText()).isEqualTo("ok");
    assertThat(response.header("X-Request-Id")).isPresent();
  }

  @Test
  void firstBootAdminTokenIsStoredOwnerOnlyAndHashedInTheDatabase() throws Exception {
    Path file = new AdminTokenFile(kernel.config().home()).path();
    assertThat(Files.readString(file).strip()).isEqualTo(admin);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    try (Connection c = kernel.database().dataSource().getConnection();
        Statement s = c.createStatement();
        var rs =
            s.executeQuery(
                "SELECT token_hash, token_prefix FROM api_tokens WHERE kind = 'admin'")) {
      rs.next();
      assertThat(new String(rs.getBytes(1), java.nio.charset.StandardCharsets.ISO_8859_1))
          .doesNotContain(admin);
      assertThat(rs.getString(2)).isEqualTo(admin.substring(0, 15) + "…");
    }
  }

  @Test
  void statusHasSeedShapeWithRealDatabaseFigures() throws Exception {
    try (Connection c = kernel.database().dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO memories (id, namespace, content) VALUES ('mem_a', 'jodo', 'one'), ('mem_b', 'jodo', 'two'), ('mem_c', 'jodo', 'gone')");
      s.execute("UPDATE memories SET deleted_at = now() WHERE id = 'mem_c'");
    }
    Response response = http.get("/api/status", admin);
    assertThat(response.status()).isEqualTo(200);
    JsonNode body = response.json();
    assertThat(body.path("kernel").path("status").asText()).isEqualTo("running");
    assertThat(body.path("kernel").path("version").asText()).isEqualTo("0.1.0");
    assertThat(body.path("kernel").path("uptime_seconds").isIntegralNumber()).isTrue();
    // This kernel's config has no jodo: section: no agent is supervised, and status says so.
    assertThat(body.path("jodo").path("status").asText()).isEqualTo("dead");
    assertThat(body.path("jodo").path("detail").asText()).contains("add a jodo: section");
    assertThat(body.path("agents").isArray()).isTrue();
    assertThat(body.path("agents")).isEmpty();
    assertThat(body.path("database").path("status").asText()).isEqualTo("connected");
    assertThat(body.path("database").path("memories_stored").asLong()).isEqualTo(2);
  }

  @Test
  void missingOrUnknownTokenIs401() {
    Response missing = http.get("/api/status", null);
    assertThat(missing.status()).isEqualTo(401);
    assertThat(missing.errorCode()).isEqualTo("unauthorized");
    assertThat(missing.errorMessage())
        .isEqualTo("missing bearer token; send Authorization: Bearer <token> (see ./jodo token)");
    assertThat(missing.header("WWW-Authenticate")).contains("Bearer");

    Response unknown = http.get("/api/status", "jodo_agent_not-a-real-token");
    assertThat(unknown.status()).isEqualTo(401);
    assertThat(unknown.errorMessage()).isEqualTo("unknown or revoked token");
  }

  @Test
  void agentTokenNeedsTheRoutesScope() {
    String statusOnly = agentToken("scout", "\"status\"");
    assertThat(http.get("/api/status", statusOnly).status()).isEqualTo(200);

    Response forbidden = http.get("/api/genesis", statusOnly);
    assertThat(forbidden.status()).isEqualTo(403);
    assertThat(forbidden.errorCode()).isEqualTo("forbidden");
    assertThat(forbidden.errorMessage()).isEqualTo("token of agent 'scout' lacks scope 'genesis'");

    Response adminOnly = http.get("/metrics", statusOnly);
    assertThat(adminOnly.status()).isEqualTo(403);
    assertThat(adminOnly.errorMessage()).isEqualTo("this endpoint needs the admin token");
    assertThat(http.get("/api/tokens", statusOnly).status()).isEqualTo(403);
  }

  @Test
  void revokedAgentTokenIsRefusedAtOnce() {
    Response created =
        http.post("/api/tokens", admin, "{\"agent\":\"temp\",\"scopes\":[\"status\"]}");
    String token = created.json().path("token").asText();
    long id = created.json().path("id").asLong();
    assertThat(http.get("/api/status", token).status()).isEqualTo(200);

    Response revoked = http.delete("/api/tokens/" + id, admin);
    assertThat(revoked.status()).isEqualTo(200);
    assertThat(http.get("/api/status", token).status()).isEqualTo(401);
    assertThat(http.delete("/api/tokens/" + id, admin).status()).isEqualTo(404);
  }

  @Test
  void tokenListNeverShowsTokenValues() {
    String token = agentToken("lister", "\"memory\",\"think\"");
    Response list = http.get("/api/tokens", admin);
    assertThat(list.status()).isEqualTo(200);
    assertThat(list.body()).doesNotContain(token).doesNotContain(admin);
    JsonNode lister = null;
    for (JsonNode t : list.json().path("tokens")) {
      if ("lister".equals(t.path("agent").asText())) {
        lister = t;
      }
    }
    assertThat(lister).isNotNull();
    assertThat(lister.path("scopes").toString()).isEqualTo("[\"memory\",\"think\"]");
    assertThat(lister.path("prefix").asText()).isEqualTo(token.substring(0, 15) + "…");
  }

  @Test
  void genesisIsServedAsJsonAndIsReadOnly() {
    Response genesis = http.get("/api/genesis", admin);
    assertThat(genesis.status()).isEqualTo(200);
    assertThat(genesis.json().path("identity").path("name").asText()).isEqualTo("Jodo");
    assertThat(genesis.json().path("first_tasks").get(0).asText()).isEqualTo("Say hello");

    for (String method : new String[] {"POST", "PUT", "DELETE"}) {
      Response refused = http.send(method, "/api/genesis", admin, "{}");
      assertThat(refused.status()).as(method).isEqualTo(405);
      assertThat(refused.errorCode()).isEqualTo("method_not_allowed");
      assertThat(refused.errorMessage()).startsWith(method + " is not allowed on /api/genesis");
      assertThat(refused.header("Allow")).hasValueSatisfying(v -> assertThat(v).contains("GET"));
    }
  }

  @Test
  void unknownRouteIs404InTheErrorShape() {
    Response response = http.get("/api/nope", admin);
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.body())
        .isEqualTo("{\"error\":{\"code\":\"not_found\",\"message\":\"no route GET /api/nope\"}}");
    assertThat(response.errorCode()).isEqualTo("not_found");
    assertThat(response.errorMessage()).isEqualTo("no route GET /api/nope");
  }

  @Test
  void malformedJsonIs400NamingTheProblem() {
    Response response = http.post("/api/tokens", admin, "{\"agent\": \"x\",, }");
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.errorCode()).isEqualTo("invalid_request");
    assertThat(response.errorMessage())
        .isEqualTo(
            "malformed JSON at line 1, column 15: Unexpected character (',' (code 44)): was expecting double-quote to start field name");
  }

  @Test
  void wrongFieldTypeIs400NamingTheField() {
    Response response = http.post("/api/tokens", admin, "{\"agent\": \"x\", \"scopes\": 5}");
    assertThat(response.status()).isEqualTo(400);
    assertThat(response.errorMessage()).isEqualTo("scopes: expected a list; fix its type");

    Response badScope =
        http.post("/api/tokens", admin, "{\"agent\": \"x\", \"scopes\": [\"root\"]}");
    assertThat(badScope.status()).isEqualTo(400);
    assertThat(badScope.errorMessage())
        .isEqualTo(
            "scopes: 'root' is not a scope; use think, memory, budget, status, genesis, commit, history, events, runs");

    Response badAgent =
        http.post("/api/tokens", admin, "{\"agent\": \"Bad Name\", \"scopes\": [\"think\"]}");
    assertThat(badAgent.status()).isEqualTo(400);
    assertThat(badAgent.errorMessage())
        .isEqualTo(
            "agent: 'Bad Name' is not a valid agent name; use lowercase letters, digits, '-' or '_' (at most 50)");
  }

  @Test
  void bodyOverOneMebibyteIs413() {
    String big = "{\"agent\":\"" + "x".repeat(1024 * 1024) + "\"}";
    Response response = http.post("/api/tokens", admin, big);
    assertThat(response.status()).isEqualTo(413);
    assertThat(response.errorCode()).isEqualTo("payload_too_large");
    assertThat(response.errorMessage())
        .isEqualTo("request body is 1048588 bytes; the limit is 1048576 bytes (1 MiB)");
  }

  @Test
  void chunkedBodyOverOneMebibyteIs413() {
    String big = "{\"agent\":\"" + "x".repeat(1024 * 1024) + "\"}";
    Response response = http.postChunked("/api/tokens", admin, big);
    assertThat(response.status()).isEqualTo(413);
    assertThat(response.errorMessage())
        .isEqualTo("request body exceeds the limit of 1048576 bytes (1 MiB)");
  }

  @Test
  void metricsNeedTheAdminTokenAndCoverRoutesJvmAndPool() {
    http.get("/healthz", null);
    http.get("/api/status", admin);
    assertThat(http.get("/metrics", null).status()).isEqualTo(401);
    Response metrics = http.get("/metrics", admin);
    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.header("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
    assertThat(metrics.body())
        .contains(
            "http_server_requests_seconds_count{method=\"GET\",route=\"/api/status\",status=\"200\"}")
        .contains("route=\"/healthz\"")
        .contains("jvm_memory_used_bytes")
        .contains("hikaricp_connections_active");
  }

  @Test
  void requestIdIsEchoedWhenSafe() {
    Response response = http.get("/healthz", null);
    assertThat(response.header("X-Request-Id"))
        .hasValueSatisfying(id -> assertThat(id).hasSize(36));
  }
}
