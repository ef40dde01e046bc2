package dev.jodo.kernel.agents;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real agent processes (python3) started, adopted and stopped by {@link LocalHost}. */
class LocalHostTest {
  /** An agent that starts a child and then waits; both ignore nothing, both print their pids. */
  private static final String AGENT =
      """
      import os, subprocess, sys, time
      child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
      print("agent", os.getpid(), "child", child.pid, "secret", os.environ.get("CLAUDE_API_KEY"),
            "token", os.environ.get("JODO_AGENT_TOKEN"), flush=True)
      time.sleep(600)
      """;

  @TempDir Path dir;
  private final LocalHost host = new LocalHost();
  private long pid;

  @AfterEach
  void cleanUp() {
    if (pid > 0) {
      host.stop(pid, Duration.ofSeconds(1));
    }
  }

  @Test
  void anAgentRunsInItsOwnSessionWithOnlyTheGivenEnvironmentAndStopsWithItsChildren()
      throws Exception {
    Path brain = Files.createDirectories(dir.resolve("brain"));
    Files.writeString(brain.resolve("main.py"), AGENT);
    Path log = dir.resolve("logs/agent.log");
    Path pidFile = dir.resolve("agent.pid");
    pid =
        host.start(
            new AgentHost.Launch(
                brain,
                List.of("python3", "main.py"),
                Map.of("PATH", System.getenv("PATH"), "JODO_AGENT_TOKEN", "jodo_agent_x"),
                log,
                pidFile));

    assertThat(Files.readString(pidFile).strip()).isEqualTo(Long.toString(pid));
    String line = awaitLine(log);
    long child = Long.parseLong(line.split(" ")[3]);
    assertThat(line)
        .startsWith("agent " + pid + " child ")
        .contains("secret None token jodo_agent_x");
    // Its own session and process group, not the test JVM's.
    assertThat(sessionOf(pid))
        .isEqualTo(pid)
        .isNotEqualTo(sessionOf(ProcessHandle.current().pid()));
    assertThat(host.isAlive(child)).isTrue();

    assertThat(host.running(pidFile, brain)).contains(pid);
    assertThat(host.running(pidFile, dir))
        .as("a pid that runs in another directory is not adopted")
        .isEmpty();

    host.stop(pid, Duration.ofSeconds(5));
    assertThat(host.isAlive(pid)).isFalse();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (host.isAlive(child) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(host.isAlive(child)).as("the agent's child went with it").isFalse();
    assertThat(host.running(pidFile, brain)).as("a dead pid is not adopted").isEmpty();
  }

  @Test
  void anAgentThatIgnoresSigtermIsKilledAfterTheGracePeriod() throws Exception {
    Path brain = Files.createDirectories(dir.resolve("brain"));
    Files.writeString(
        brain.resolve("main.py"),
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        time.sleep(600)
        """);
    Path log = dir.resolve("agent.log");
    pid =
        host.start(
            new AgentHost.Launch(
                brain,
                List.of("python3", "main.py"),
                Map.of("PATH", System.getenv("PATH")),
                log,
                dir.resolve("agent.pid")));
    awaitLine(log);
    long started = System.nanoTime();
    host.stop(pid, Duration.ofMillis(500));
    assertThat(host.isAlive(pid)).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void noPidFileOrGarbageInItMeansNothingToAdopt() throws Exception {
    assertThat(host.running(dir.resolve("missing.pid"), dir)).isEqualTo(Optional.empty());
    Files.writeString(dir.resolve("bad.pid"), "not a pid\n");
    assertThat(host.running(dir.resolve("bad.pid"), dir)).isEmpty();
  }

  private static String awaitLine(Path log) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(log)) {
        String text = Files.readString(log).strip();
        if (!text.isEmpty()) {
          return text.lines().findFirst().orElseThrow();
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the agent printed nothing to " + log);
  }

  /** Field 6 of /proc/<pid>/stat: the session id. */
  private static long sessionOf(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[3]);
  }
}
