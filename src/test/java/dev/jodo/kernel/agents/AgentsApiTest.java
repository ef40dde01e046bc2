package dev.jodo.kernel.agents;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Supervised agents through a real kernel: the bundled seed born against a fake OpenAI provider
 * that answers with a scripted application, the lifecycle API, re-attaching after a kernel restart,
 * and two kernels on one database with one supervisor.
 */
class AgentsApiTest {
  /** What the fake model answers the seed: a stdlib app that serves /health and records its env. */
  private static final String APP =
      """
      === FILE: main.py ===
      import http.server, json, os
      BRAIN = os.path.dirname(os.path.abspath(__file__))
      with open(os.path.join(BRAIN, "env.txt"), "w") as out:
          out.write("\\n".join(sorted(os.environ)))

      class Handler(http.server.BaseHTTPRequestHandler):
          def log_message(self, *args):
              pass
          def do_GET(self):
              body = json.dumps({"status": "ok"}).encode()
              self.send_response(200 if self.path == "/health" else 404)
              self.send_header("Content-Type", "application/json")
              self.send_header("Content-Length", str(len(body)))
              self.end_headers()
              self.wfile.write(body)

      port = int(os.environ["JODO_AGENT_PORT"])
      http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
      === END FILE ===
      """;

  @TempDir Path temp;
  private DatabaseTarget.External database;
  private FakeProvider openai;
  private final List<Kernel> kernels = new ArrayList<>();
  private int agentPort;
  private Path brain;

  @BeforeEach
  void setUp() throws Exception {
    database = TestPostgres.freshDatabase(AgentsApiTest.class);
    openai = FakeProvider.openAi("sk-openai-test");
    try (ServerSocket socket = new ServerSocket(0)) {
      agentPort = socket.getLocalPort();
    }
    brain = temp.resolve("brains/jodo");
  }

  @AfterEach
  void tearDown() throws Exception {
    kernels.forEach(Kernel::close);
    Path pidFile = temp.resolve("brains/jodo.jodo/agent.pid");
    if (Files.exists(pidFile)) {
      long pid = Long.parseLong(Files.readString(pidFile).strip());
      new LocalHost().stop(pid, Duration.ofSeconds(2));
    }
    openai.close();
    TestPostgres.drop(database);
  }

  private String config() {
    return """
        kernel:
          health_check_interval: 1
        jodo:
          host: local
          port: %d
          brain_path: "%s"
        providers:
          openai:
            base_url: "%s"
            api_key: "${OPENAI_API_KEY}"
            models:
              gpt-4o-mini: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [code, chat], quality: 6}
        routing:
          intent_preferences:
            code: [openai]
            chat: [openai]
        """
        .formatted(agentPort, brain, openai.baseUrl());
  }

  private Kernel start(String name) {
    KernelConfig config =
        TestConfigs.kernelConfig(
            temp.resolve(name), database, config(), Map.of("OPENAI_API_KEY", "sk-openai-test"));
    Kernel kernel = Kernel.start(config, Kernel.Options.defaults());
    kernels.add(kernel);
    return kernel;
  }

  private static String adminToken(Kernel kernel) throws Exception {
    return kernel.firstBootAdminToken().isPresent()
        ? kernel.firstBootAdminToken().get().value()
        : Files.readString(kernel.config().home().resolve("admin.token")).strip();
  }

  @Test
  void theSeedIsBornThroughTheKernelAndTheLifecycleApiDrivesIt() throws Exception {
    openai.reply(APP);
    Kernel kernel = start("k1");
    String admin = kernel.firstBootAdminToken().orElseThrow().value();
    TestHttp http = new TestHttp(kernel.port());

    await(() -> jodo(http, admin).path("health_check_ok").asBoolean());
    JsonNode jodo = jodo(http, admin);
    assertThat(jodo.path("status").asText()).isEqualTo("running");
    long pid = jodo.path("pid").asLong();
    assertThat(pid).isPositive();
    assertThat(jodo.path("current_git_hash").asText()).hasSize(40);
    assertThat(jodo.path("supervised_by").asText()).endsWith(":" + kernel.port());

    // Born: the seed asked the fake model for code, wrote main.py, committed it, became it.
    assertThat(openai.requests()).isNotEmpty();
    assertThat(brain.resolve("main.py")).exists();
    assertThat(events()).startsWith("first_boot");
    // The agent's environment is the kernel's handful of variables, never a provider key.
    // (python3 may be a pyenv shim, a shell script that adds PWD, SHLVL, _ and PYENV_*.)
    assertThat(
            Files.readAllLines(brain.resolve("env.txt")).stream()
                .filter(
                    name ->
                        !name.contains("PYENV") && !List.of("PWD", "SHLVL", "_").contains(name)))
        .containsExactlyInAnyOrder(
            "HOME",
            "JODO_AGENT_NAME",
            "JODO_AGENT_PORT",
            "JODO_AGENT_TOKEN",
            "JODO_BRAIN",
            "JODO_KERNEL_URL",
            "LANG",
            "PATH",
            "PYTHONUNBUFFERED");
    Path tokenFile = kernel.config().home().resolve("agents/jodo/agent.token");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)))
        .isEqualTo("rw-------");
    String agent = Files.readString(tokenFile).strip();

    // History: the kernel's initial commit and the seed's, through the agent's own token.
    JsonNode history = http.get("/api/history", agent).json().path("commits");
    assertThat(history.size()).isGreaterThanOrEqualTo(2);
    String seeded = history.get(0).path("hash").asText();

    // Commit: a change, then nothing to commit.
    Files.writeString(brain.resolve("notes.md"), "learned something");
    TestHttp.Response committed = http.post("/api/commit", agent, "{\"message\": \"Wrote notes\"}");
    assertThat(committed.status()).isEqualTo(200);
    assertThat(committed.json().path("changed").asBoolean()).isTrue();
    String notes = committed.json().path("hash").asText();
    TestHttp.Response again = http.post("/api/commit", agent, "{\"message\": \"Nothing\"}");
    assertThat(again.json().path("changed").asBoolean()).isFalse();
    assertThat(again.json().path("hash").asText()).isEqualTo(notes);
    JsonNode newest = http.get("/api/history?limit=1", agent).json().path("commits");
    assertThat(newest.size()).isEqualTo(1);
    assertThat(newest.get(0).path("message").asText()).isEqualTo("Wrote notes");

    // Bad input names the field; an agent cannot use the admin's controls.
    TestHttp.Response noMessage = http.post("/api/commit", agent, "{}");
    assertThat(noMessage.status()).isEqualTo(400);
    assertThat(noMessage.errorMessage()).contains("message");
    assertThat(http.get("/api/history?limit=0", agent).status()).isEqualTo(400);
    assertThat(http.post("/api/rollback", agent, "{\"target\": \"" + seeded + "\"}").status())
        .isEqualTo(403);
    assertThat(
            http.post("/api/commit", agent, "{\"message\": \"x\", \"agent\": \"other\"}").status())
        .isEqualTo(403);
    TestHttp.Response unknownAgent = http.post("/api/agents/nobody/kill", admin, "");
    assertThat(unknownAgent.status()).isEqualTo(404);
    assertThat(unknownAgent.errorMessage()).contains("configured agents: jodo");

    // Rollback: an unknown target is a 404 and changes nothing; a real one moves and restarts.
    TestHttp.Response unknown = http.post("/api/rollback", admin, "{\"target\": \"stable-v7\"}");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.errorCode()).isEqualTo("unknown_target");
    assertThat(brain.resolve("notes.md")).exists();
    TestHttp.Response rolled =
        http.post("/api/rollback", admin, "{\"target\": \"" + seeded + "\"}");
    assertThat(rolled.status()).isEqualTo(200);
    assertThat(rolled.json().path("status").asText()).isEqualTo("rolling_back");
    assertThat(rolled.json().path("from").asText()).isEqualTo(notes);
    assertThat(brain.resolve("notes.md")).doesNotExist();
    await(
        () ->
            jodo(http, admin).path("pid").asLong() != pid
                && jodo(http, admin).path("health_check_ok").asBoolean());

    // Restart answers with the pid it replaces.
    long beforeRestart = jodo(http, admin).path("pid").asLong();
    TestHttp.Response restarted = http.post("/api/restart", admin, "");
    assertThat(restarted.json().path("status").asText()).isEqualTo("restarting");
    assertThat(restarted.json().path("previous_pid").asLong()).isEqualTo(beforeRestart);
    await(
        () ->
            jodo(http, admin).path("pid").asLong() != beforeRestart
                && jodo(http, admin).path("health_check_ok").asBoolean());
    long running = jodo(http, admin).path("pid").asLong();

    // A kernel that stops leaves its agent running; the next one re-attaches to it.
    kernel.close();
    kernels.remove(kernel);
    assertThat(new LocalHost().isAlive(running)).isTrue();
    Kernel next = start("k1");
    TestHttp nextHttp = new TestHttp(next.port());
    // Until the new kernel adopts the agent, the status row is the old kernel's (healthy).
    await(
        () -> {
          JsonNode status = jodo(nextHttp, admin);
          return status.path("supervised_by").asText().equals(next.agents().kernelId())
              && status.path("health_check_ok").asBoolean();
        });
    assertThat(jodo(nextHttp, admin).path("pid").asLong()).isEqualTo(running);
    assertThat(jodo(nextHttp, admin).path("restarts_today").asInt()).isEqualTo(2);
    assertThat(events()).containsExactly("first_boot", "rollback", "restart");

    // Kill stops it and keeps it stopped.
    TestHttp.Response killed = nextHttp.post("/api/agents/jodo/kill", admin, "");
    assertThat(killed.json().path("previous_pid").asLong()).isEqualTo(running);
    await(() -> jodo(nextHttp, admin).path("status").asText().equals("dead"));
    assertThat(new LocalHost().isAlive(running)).isFalse();

    // A kill outlives the kernel: the next one keeps the agent dead until it is restarted.
    next.close();
    kernels.remove(next);
    Kernel third = start("k1");
    TestHttp thirdHttp = new TestHttp(third.port());
    await(() -> third.agents().supervisor("jodo").isPresent());
    Thread.sleep(2500); // two intervals
    assertThat(jodo(thirdHttp, admin).path("status").asText()).isEqualTo("dead");
    assertThat(jodo(thirdHttp, admin).path("detail").asText()).isEqualTo("killed on request");
    assertThat(events()).endsWith("kill");
    thirdHttp.post("/api/restart", admin, "");
    await(() -> jodo(thirdHttp, admin).path("health_check_ok").asBoolean());
  }

  @Test
  void twoKernelsOnOneDatabaseHaveOneSupervisorAndTheOtherTakesOver() throws Exception {
    // An agent already written: no seed needed.
    Files.createDirectories(brain);
    Files.writeString(
        brain.resolve("main.py"),
        APP.lines()
            .skip(1)
            .takeWhile(l -> !l.startsWith("==="))
            .reduce("", (a, b) -> a + b + "\n"));
    Kernel a = start("a");
    String admin = adminToken(a);
    TestHttp httpA = new TestHttp(a.port());
    await(() -> jodo(httpA, admin).path("health_check_ok").asBoolean());
    long pid = jodo(httpA, admin).path("pid").asLong();

    Kernel b = start("b");
    TestHttp httpB = new TestHttp(b.port());
    Thread.sleep(2500); // two intervals: B tried and did not get the agent
    assertThat(b.agents().supervisor("jodo")).isEmpty();
    JsonNode seenByB = jodo(httpB, admin);
    assertThat(seenByB.path("status").asText()).isEqualTo("running");
    assertThat(seenByB.path("pid").asLong()).isEqualTo(pid);
    assertThat(seenByB.path("supervised_by").asText()).isEqualTo(a.agents().kernelId());
    TestHttp.Response elsewhere = httpB.post("/api/restart", admin, "");
    assertThat(elsewhere.status()).isEqualTo(409);
    assertThat(elsewhere.errorMessage()).contains(a.agents().kernelId());
    // Any kernel reads the brain.
    assertThat(httpB.get("/api/history", admin).json().path("commits").size()).isPositive();

    a.close();
    kernels.remove(a);
    await(() -> b.agents().supervisor("jodo").isPresent());
    await(() -> jodo(httpB, admin).path("supervised_by").asText().equals(b.agents().kernelId()));
    assertThat(jodo(httpB, admin).path("pid").asLong()).as("adopted, not restarted").isEqualTo(pid);
    assertThat(events()).containsExactly("boot");
  }

  private static JsonNode jodo(TestHttp http, String token) {
    return http.get("/api/status", token).json().path("jodo");
  }

  private List<String> events() {
    List<String> events = new ArrayList<>();
    try (Connection c = kernels.get(0).database().dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT event FROM growth_log ORDER BY id")) {
      while (rs.next()) {
        events.add(rs.getString(1));
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return events;
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(condition.getAsBoolean()).as("condition met within 40 s").isTrue();
  }
}
