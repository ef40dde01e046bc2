package dev.jodo.kernel.agents;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.agents.brain.Brain;
import dev.jodo.kernel.agents.brain.BrainException;
import dev.jodo.kernel.agents.brain.LocalBrain;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.testing.TestPostgres;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The health ladder with real agent processes: a stdlib Python agent whose {@code /health} answers
 * what the {@code mode} file in its brain says, checked every 200 ms.
 */
class AgentSupervisorTest {
  /** The agent: /health is 200 {"status":"ok"} when its brain's mode file says ok, else 500. */
  static final String AGENT =
      """
      import http.server, json, os
      BRAIN = os.path.dirname(os.path.abspath(__file__))

      class Handler(http.server.BaseHTTPRequestHandler):
          def log_message(self, *args):
              pass
          def do_GET(self):
              mode = open(os.path.join(BRAIN, "mode")).read().strip()
              ok = mode == "ok"
              body = json.dumps({"status": "ok" if ok else "broken"}).encode()
              self.send_response(200 if ok else 500)
              self.send_header("Content-Length", str(len(body)))
              self.end_headers()
              self.wfile.write(body)

      port = int(os.environ["JODO_AGENT_PORT"])
      http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
      """;

  /** A stand-in for seed.py: writes a healthy agent, then becomes it. */
  static final String SEED =
      "import os, sys\n"
          + "brain = os.path.dirname(os.path.abspath(__file__))\n"
          + "open(os.path.join(brain, 'main.py'), 'w').write("
          + pythonString(AGENT)
          + ")\n"
          + "open(os.path.join(brain, 'mode'), 'w').write('ok')\n"
          + "os.execv(sys.executable, [sys.executable, os.path.join(brain, 'main.py')])\n";

  private static DatabaseTarget.External target;
  private static Database db;
  @TempDir Path dir;
  private Path brainDir;
  private Brain brain;
  private final LocalHost host = new LocalHost();
  private final List<AgentSupervisor> supervisors = new ArrayList<>();
  private int port;

  @BeforeAll
  static void database() {
    target = TestPostgres.freshDatabase(AgentSupervisorTest.class);
    db = Database.open(target, null, "supervisor-test");
    db.migrate(Database.KERNEL_MIGRATIONS);
  }

  @AfterAll
  static void dropDatabase() {
    db.close();
    TestPostgres.drop(target);
  }

  @BeforeEach
  void setUp() throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE growth_log, health_checks");
    }
    brainDir = Files.createDirectories(dir.resolve("home/brain"));
    brain = new LocalBrain(brainDir, Clock.systemUTC(), Brain.Identity.KERNEL);
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
  }

  @AfterEach
  void tearDown() {
    supervisors.forEach(AgentSupervisor::close);
    if (supervisors.isEmpty()) {
      return;
    }
    long pid = supervisors.get(supervisors.size() - 1).status().pid();
    if (pid > 0) {
      host.stop(pid, Duration.ofSeconds(2));
    }
  }

  @Test
  void failuresRestartThenRollBackToTheStableTagAndTheAgentRecovers() throws Exception {
    Files.writeString(brainDir.resolve("main.py"), AGENT);
    Files.writeString(brainDir.resolve("mode"), "ok");
    String stable = brain.tagStable(brain.commitAll("a healthy app").hash());
    assertThat(stable).isEqualTo("stable-v1");
    Files.writeString(brainDir.resolve("mode"), "broken");
    brain.commitAll("a change that breaks /health");

    AgentSupervisor supervisor = start();
    await(() -> supervisor.status().pid() > 0);
    long firstPid = supervisor.status().pid();
    await(() -> events().contains("rollback") && supervisor.status().healthy());

    assertThat(events()).containsSubsequence("boot", "restart", "rollback", "recovery");
    assertThat(supervisor.status().gitTag()).contains("stable-v1");
    assertThat(Files.readString(brainDir.resolve("mode"))).isEqualTo("ok");
    assertThat(supervisor.status().pid()).isNotEqualTo(firstPid);
    assertThat(host.isAlive(firstPid)).isFalse();
    assertThat(supervisor.status().restartsToday()).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM health_checks WHERE status = 'fail'")).isEqualTo(6);
    assertThat(count("SELECT count(*) FROM health_checks WHERE status = 'ok'")).isEqualTo(1);

    // A supervisor that stops leaves the agent running; the next one adopts it.
    long pid = supervisor.status().pid();
    supervisor.close();
    Thread.sleep(300);
    assertThat(host.isAlive(pid)).isTrue();
    AgentSupervisor next = start();
    await(() -> next.status().healthy());
    assertThat(next.status().pid()).isEqualTo(pid);
    assertThat(events()).endsWith("recovery"); // no second boot
  }

  @Test
  void withoutAStableTagTheSixthFailureRebirthsFromTheSeedAndKeepsTheOldBrain() throws Exception {
    Files.writeString(brainDir.resolve("main.py"), AGENT);
    Files.writeString(brainDir.resolve("mode"), "broken");
    String broken = brain.commitAll("broken from the start").hash();

    AgentSupervisor supervisor = start();
    await(() -> events().contains("rebirth") && supervisor.status().healthy());

    assertThat(events()).containsSubsequence("boot", "restart", "rebirth", "recovery");
    List<Path> archives;
    try (Stream<Path> list = Files.list(dir.resolve("home/archive"))) {
      archives = list.toList();
    }
    assertThat(archives).hasSize(1);
    Path old = archives.get(0);
    assertThat(old.resolve(".git")).isDirectory();
    assertThat(Files.readString(old.resolve("mode"))).isEqualTo("broken");
    Process log =
        new ProcessBuilder("git", "-C", old.toString(), "log", "--format=%H")
            .redirectErrorStream(true)
            .start();
    assertThat(new String(log.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
        .contains(broken);
    assertThat(brainDir.resolve("seed.py")).exists();
    assertThat(Files.readString(brainDir.resolve("mode"))).isEqualTo("ok");
  }

  @Test
  void aCommitHealthyLongEnoughIsTaggedStableOnce() throws Exception {
    Files.writeString(brainDir.resolve("main.py"), AGENT);
    Files.writeString(brainDir.resolve("mode"), "ok");
    String hash = brain.commitAll("a healthy app").hash();
    stableAfter = Duration.ofSeconds(1);
    // Seed 000 keeps 24 hours of health checks: an older row goes at the first check.
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO health_checks (agent, status, created_at) VALUES"
              + " ('jodo', 'fail', now() - interval '25 hours'),"
              + " ('jodo', 'fail', now() - interval '23 hours'),"
              + " ('other', 'fail', now() - interval '25 hours')");
    }
    AgentSupervisor supervisor = start();
    await(() -> supervisor.status().gitTag().isPresent());
    assertThat(supervisor.status().gitTag()).contains("stable-v1");
    assertThat(brain.head().orElseThrow().hash()).isEqualTo(hash);
    Thread.sleep(1500);
    assertThat(events()).containsExactly("boot", "stable");
    assertThat(count("SELECT count(*) FROM health_checks WHERE agent = 'jodo'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM health_checks WHERE agent = 'other'")).isEqualTo(1);
    assertThat(brain.newestStableTag()).contains("stable-v1");
  }

  @Test
  void anEmptyBrainGetsTheSeedWhichHasItsGraceToWriteTheFirstApplication() throws Exception {
    // A seed that takes 2 s (10 checks) before the agent answers: no restart meanwhile.
    Files.writeString(brainDir.resolve("mode"), "ok");
    slowSeed = true;
    AgentSupervisor supervisor = start();
    await(() -> supervisor.status().healthy());
    assertThat(events()).containsExactly("first_boot");
    assertThat(brainDir.resolve(".git")).isDirectory();
    assertThat(brainDir.resolve("seed.py")).exists();
    assertThat(count("SELECT count(*) FROM health_checks")).isZero();
  }

  @Test
  void theAdminsControlsKillRestartRollBackAndRebirthInOrderWithTheChecks() throws Exception {
    Files.writeString(brainDir.resolve("main.py"), AGENT);
    Files.writeString(brainDir.resolve("mode"), "ok");
    String stable = brain.tagStable(brain.commitAll("a healthy app").hash());
    summaryEvery = Duration.ofMillis(600);
    AgentSupervisor supervisor = start();
    await(() -> supervisor.status().healthy());
    await(() -> count("SELECT count(*) FROM health_checks WHERE status = 'summary'") > 0);

    long first = supervisor.status().pid();
    assertThat(supervisor.kill()).isEqualTo(first);
    await(() -> supervisor.status().state().equals("dead"));
    assertThat(host.isAlive(first)).isFalse();
    assertThat(supervisor.status().detail()).contains("killed on request");
    Thread.sleep(1000); // five intervals: a killed agent is not checked, so not restarted
    assertThat(supervisor.status().state()).isEqualTo("dead");
    assertThat(events()).containsExactly("boot", "kill");

    assertThat(supervisor.restart()).isEqualTo(first);
    await(() -> supervisor.status().healthy());
    long second = supervisor.status().pid();
    assertThat(second).isNotEqualTo(first);

    Files.writeString(brainDir.resolve("mode"), "ok"); // unchanged content, a new commit:
    Files.writeString(brainDir.resolve("extra.txt"), "a change");
    brain.commitAll("a change");
    assertThat(supervisor.rollback("stable-v9"))
        .failsWithin(Duration.ofSeconds(5))
        .withThrowableThat()
        .havingCause()
        .isInstanceOf(BrainException.UnknownTarget.class);
    Brain.Rollback done = supervisor.rollback(stable).get(5, TimeUnit.SECONDS);
    assertThat(done.to()).isEqualTo("stable-v1");
    assertThat(brainDir.resolve("extra.txt")).doesNotExist();
    await(() -> supervisor.status().healthy() && supervisor.status().pid() != second);
    assertThat(supervisor.status().gitTag()).contains("stable-v1");

    supervisor.rebirth();
    await(() -> events().contains("rebirth") && supervisor.status().healthy());
    assertThat(brainDir.resolve("seed.py")).exists();
    assertThat(events()).containsSubsequence("boot", "kill", "restart", "rollback", "rebirth");
    assertThat(supervisor.status().restartsToday()).isEqualTo(3);
    assertThat(published).extracting(AgentSupervisor.Status::state).contains("dead", "rebirthing");
    String summary =
        text(
            "SELECT details::text FROM health_checks WHERE status = 'summary' ORDER BY id LIMIT 1");
    assertThat(summary).contains("\"checks\"", "\"ok\"", "\"failed\": 0", "\"max_ms\"");
  }

  @Test
  void aSeedThatKeepsFailingIsRebornWithoutPilingUpArchives() throws Exception {
    failingSeed = true; // as when no provider answers: the seed exits with 3
    AgentSupervisor supervisor = start();
    await(() -> events().stream().filter("rebirth"::equals).count() >= 2);
    assertThat(events()).startsWith("first_boot", "restart", "rebirth");
    assertThat(dir.resolve("home/archive")).doesNotExist();
    assertThat(text("SELECT note FROM growth_log WHERE event = 'rebirth' ORDER BY id LIMIT 1"))
        .contains("nothing was archived");
    supervisor.kill();
    await(() -> supervisor.status().state().equals("dead"));
  }

  private boolean slowSeed;
  private boolean failingSeed;
  private Duration summaryEvery = Duration.ofHours(1);
  private final List<AgentSupervisor.Status> published =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private Duration stableAfter = Duration.ofMinutes(5);

  private AgentSupervisor start() {
    AgentSupervisor supervisor =
        new AgentSupervisor(
            new AgentSupervisor.Settings(
                "jodo",
                dir.resolve("home"),
                brainDir,
                List.of("python3", "main.py"),
                port,
                "/health",
                Duration.ofMillis(200),
                Map.of("PATH", System.getenv("PATH"), "JODO_AGENT_PORT", Integer.toString(port)),
                (failingSeed
                        ? "import sys\nsys.exit(3)\n"
                        : (slowSeed ? "import time\ntime.sleep(2)\n" : "") + SEED)
                    .getBytes(StandardCharsets.UTF_8),
                Optional.empty(),
                Duration.ofSeconds(5),
                stableAfter,
                summaryEvery),
            host,
            brain,
            db.dataSource(),
            Clock.systemUTC(),
            published::add);
    supervisors.add(supervisor);
    supervisor.start();
    return supervisor;
  }

  private static List<String> events() {
    List<String> events = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
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

  private static String text(String query) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static int count(String query) {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getInt(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(condition.getAsBoolean())
        .as("condition met within 30 s; events " + events())
        .isTrue();
  }

  private static String pythonString(String text) {
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'";
  }
}
