package dev.jodo.kernel.agents;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.testing.JarKernel;
import dev.jodo.kernel.testing.TestAgents;
import dev.jodo.kernel.testing.TestPostgres;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel supervising an agent is killed with SIGKILL: the agent keeps running (its own
 * session), and another kernel on the same database takes its supervision within two health-check
 * intervals and adopts the running agent instead of starting a second one. Real kernel processes
 * (the packaged jar) and a real agent process.
 */
class SupervisorCrashIT {
  @TempDir Path temp;
  private DatabaseTarget.External database;
  private Database db;
  private final List<Process> kernels = new ArrayList<>();
  private Path brain;
  private int agentPort;

  @BeforeEach
  void setUp() throws Exception {
    database = TestPostgres.freshDatabase(SupervisorCrashIT.class);
    db = Database.open(database, null, "supervisor-crash-test");
    brain = Files.createDirectories(temp.resolve("agent/brain"));
    Files.writeString(brain.resolve("main.py"), TestAgents.HEALTHY);
    try (ServerSocket socket = new ServerSocket(0)) {
      agentPort = socket.getLocalPort();
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    kernels.forEach(Process::destroyForcibly);
    for (Process kernel : kernels) {
      kernel.waitFor();
    }
    Path pidFile = temp.resolve("agent/brain.jodo/agent.pid");
    if (Files.exists(pidFile)) {
      new LocalHost()
          .stop(Long.parseLong(Files.readString(pidFile).strip()), Duration.ofSeconds(2));
    }
    db.close();
    TestPostgres.drop(database);
  }

  @Test
  void aKilledSupervisorIsReplacedWithinTwoIntervalsAndTheAgentIsAdoptedNotDoubled()
      throws Exception {
    int a = start("a");
    awaitRow("SELECT kernel FROM agent_status WHERE agent = 'jodo' AND healthy", ":" + a);
    long pid = longValue("SELECT pid FROM agent_status WHERE agent = 'jodo'");
    int b = start("b");
    Thread.sleep(2500); // B tries twice and does not get the agent
    assertThat(text("SELECT kernel FROM agent_status WHERE agent = 'jodo'")).endsWith(":" + a);

    kernels.get(0).destroyForcibly(); // SIGKILL: no shutdown, the lock goes with the connection
    kernels.get(0).waitFor();
    long killed = System.nanoTime();
    awaitRow("SELECT kernel FROM agent_status WHERE agent = 'jodo'", ":" + b);
    Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
    System.out.println("supervision taken over " + takeover.toMillis() + " ms after the SIGKILL");
    // Two intervals of 1 s, and a second for the JVMs' scheduling on a busy machine.
    assertThat(takeover).isLessThan(Duration.ofSeconds(3));

    awaitRow("SELECT kernel FROM agent_status WHERE agent = 'jodo' AND healthy", ":" + b);
    assertThat(longValue("SELECT pid FROM agent_status WHERE agent = 'jodo'")).isEqualTo(pid);
    assertThat(new LocalHost().isAlive(pid)).isTrue();
    assertThat(text("SELECT string_agg(event, ',' ORDER BY id) FROM growth_log")).isEqualTo("boot");
  }

  /** Starts the packaged kernel with its own home; returns its port. */
  private int start(String name) throws Exception {
    String config =
        """
        kernel:
          health_check_interval: 1
        jodo:
          port: %d
          brain_path: "%s"
        providers:
          ollama:
            base_url: "http://127.0.0.1:1"
            models:
              llama3: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [code, chat], quality: 5}
        routing:
          intent_preferences:
            code: [ollama]
        """
            .formatted(agentPort, brain);
    JarKernel kernel = JarKernel.start(temp.resolve(name), config, database, Map.of());
    kernels.add(kernel.process());
    return kernel.port();
  }

  private void awaitRow(String query, String suffix) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String value = null;
    while (System.nanoTime() < deadline) {
      value = text(query);
      if (value != null && value.endsWith(suffix)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(query + " gave " + value + ", not ...'" + suffix + "' within 30 s");
  }

  private String text(String query) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private long longValue(String query) throws Exception {
    return Long.parseLong(text(query));
  }
}
