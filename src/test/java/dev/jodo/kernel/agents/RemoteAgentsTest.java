package dev.jodo.kernel.agents;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestAgents;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.TestSshServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Agents on "other machines" through a real kernel: an SSH server on loopback (MINA SSHD running
 * real shell commands) for a reachable host, and a socket that never speaks SSH for an unreachable
 * one, whose supervisor waits out its timeouts while the API keeps answering at once.
 */
class RemoteAgentsTest {

  @TempDir Path temp;
  private DatabaseTarget.External database;
  private TestSshServer ssh;
  private ServerSocket silent;
  private Kernel kernel;

  @BeforeEach
  void setUp() throws Exception {
    database = TestPostgres.freshDatabase(RemoteAgentsTest.class);
    ssh = TestSshServer.start(temp.resolve("sshd"));
    silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void tearDown() throws Exception {
    if (kernel != null) {
      kernel.close();
    }
    Path pidFile = temp.resolve("remote/brain.jodo/agent.pid");
    if (Files.exists(pidFile)) {
      new LocalHost()
          .stop(Long.parseLong(Files.readString(pidFile).strip()), Duration.ofSeconds(2));
    }
    silent.close();
    ssh.close();
    TestPostgres.drop(database);
  }

  @Test
  void aRemoteAgentIsSupervisedOverSshAndAnUnreachableHostNeverBlocksTheApi() throws Exception {
    Path brain = Files.createDirectories(temp.resolve("remote/brain"));
    Files.writeString(brain.resolve("main.py"), TestAgents.HEALTHY);
    int port = freePort();
    String config =
        """
        kernel:
          health_check_interval: 1
        jodo:
          host: "127.0.0.1"
          ssh_port: %d
          ssh_user: "%s"
          ssh_key_path: "%s"
          brain_path: "%s"
          port: %d
        agents:
          - name: lost
            host: "127.0.0.1"
            ssh_port: %d
            ssh_user: "%s"
            ssh_key_path: "%s"
            brain_path: "%s"
            port: %d
        providers:
          ollama:
            base_url: "http://127.0.0.1:1"
            models:
              llama3: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [code, chat], quality: 5}
        routing:
          intent_preferences:
            code: [ollama]
        """
            .formatted(
                ssh.port(),
                System.getProperty("user.name"),
                ssh.clientKey(),
                brain,
                port,
                silent.getLocalPort(),
                System.getProperty("user.name"),
                ssh.clientKey(),
                temp.resolve("lost/brain"),
                freePort());
    KernelConfig loaded = TestConfigs.kernelConfig(temp, database, config, Map.of());
    kernel = Kernel.start(loaded, Kernel.Options.defaults().withSshTimeout(Duration.ofSeconds(2)));
    String admin = kernel.firstBootAdminToken().orElseThrow().value();
    TestHttp http = new TestHttp(kernel.port());

    // While the "lost" host's supervisor waits for an SSH banner that never comes, status answers.
    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      long started = System.nanoTime();
      assertThat(http.get("/api/status", admin).status()).isEqualTo(200);
      millis.add((System.nanoTime() - started) / 1_000_000);
      Thread.sleep(100);
    }
    List<Long> sorted = millis.stream().sorted().toList();
    assertThat(sorted.get(sorted.size() / 2)).as("median of %s ms", millis).isLessThan(100);
    assertThat(sorted.get(sorted.size() - 1)).as("slowest of %s ms", millis).isLessThan(1000);

    await(() -> agent(http, admin, "jodo").path("health_check_ok").asBoolean());
    JsonNode jodo = agent(http, admin, "jodo");
    assertThat(jodo.path("host").asText()).isEqualTo("127.0.0.1");
    long pid = jodo.path("pid").asLong();
    assertThat(new LocalHost().isAlive(pid)).as("started over SSH, a real process").isTrue();
    assertThat(brain.resolve(".git")).isDirectory();
    assertThat(temp.resolve("home/ssh/known_hosts")).exists();

    // The brain's API runs git over SSH.
    Files.writeString(brain.resolve("notes.md"), "remote");
    TestHttp.Response committed =
        http.post("/api/commit", admin, "{\"message\": \"Remote notes\"}");
    assertThat(committed.status()).isEqualTo(200);
    assertThat(committed.json().path("changed").asBoolean()).isTrue();
    assertThat(
            http.get("/api/history", admin).json().path("commits").get(0).path("message").asText())
        .isEqualTo("Remote notes");

    // The unreachable one is reported, with SSH's reason, not hidden.
    await(() -> agent(http, admin, "lost").path("detail").asText().contains("ssh "));
    assertThat(agent(http, admin, "lost").path("health_check_ok").asBoolean()).isFalse();
    TestHttp.Response history = http.get("/api/history?agent=lost", admin);
    assertThat(history.status()).isEqualTo(502);

    TestHttp.Response killed = http.post("/api/agents/jodo/kill", admin, "");
    assertThat(killed.json().path("previous_pid").asLong()).isEqualTo(pid);
    await(() -> !new LocalHost().isAlive(pid));
  }

  private static JsonNode agent(TestHttp http, String token, String name) {
    for (JsonNode agent : http.get("/api/status", token).json().path("agents")) {
      if (agent.path("name").asText().equals(name)) {
        return agent;
      }
    }
    throw new AssertionError("no agent " + name + " in /api/status");
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(condition.getAsBoolean()).as("condition met within 60 s").isTrue();
  }
}
