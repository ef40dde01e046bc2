package dev.jodo.kernel.agents.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.agents.AgentHost;
import dev.jodo.kernel.agents.AgentHostException;
import dev.jodo.kernel.agents.LocalHost;
import dev.jodo.kernel.testing.TestSshServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SshHost} against a real SSH server on loopback ({@link TestSshServer}) that runs every
 * command as a real shell process: agents started, adopted and stopped over SSH, host keys pinned,
 * and unreachable hosts failing within the timeout.
 */
class SshHostTest {
  /** A stdlib agent: /health answers ok; it records its environment and starts a child. */
  private static final String AGENT =
      """
      import http.server, json, os, subprocess, sys
      with open("env.txt", "w") as out:
          out.write("\\n".join(sorted(os.environ)))
      with open("token.txt", "w") as out:
          out.write(os.environ["JODO_AGENT_TOKEN"])
      child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
      with open("child.pid", "w") as out:
          out.write(str(child.pid))

      class Handler(http.server.BaseHTTPRequestHandler):
          def log_message(self, *args):
              pass
          def do_GET(self):
              body = json.dumps({"status": "ok"}).encode()
              self.send_response(200)
              self.send_header("Content-Length", str(len(body)))
              self.end_headers()
              self.wfile.write(body)

      http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["JODO_AGENT_PORT"])), Handler).serve_forever()
      """;

  @TempDir Path dir;
  private TestSshServer server;
  private SshConnection ssh;
  private SshHost host;
  private long pid;

  @BeforeEach
  void setUp() {
    server = TestSshServer.start(dir.resolve("server"));
    ssh = connect(server.port(), Duration.ofSeconds(10));
    host = new SshHost(ssh);
  }

  private SshConnection connect(int port, Duration timeout) {
    return new SshConnection(
        "127.0.0.1",
        port,
        System.getProperty("user.name"),
        server.clientKey(),
        dir.resolve("home/ssh/known_hosts"),
        timeout);
  }

  @AfterEach
  void tearDown() {
    if (pid > 0) {
      new LocalHost().stop(pid, Duration.ofSeconds(1));
    }
    host.close();
    server.close();
  }

  @Test
  void anAgentStartsOverSshInItsOwnSessionWithOnlyItsEnvironmentAndStopsWithItsChildren()
      throws Exception {
    Path brain = Files.createDirectories(dir.resolve("brain"));
    host.write(brain.resolve("main.py"), AGENT.getBytes(StandardCharsets.UTF_8));
    int port = freePort();
    Path pidFile = dir.resolve("brain.jodo/agent.pid");
    pid =
        host.start(
            new AgentHost.Launch(
                brain,
                List.of("python3", "main.py"),
                Map.of(
                    "PATH", System.getenv("PATH"),
                    "JODO_AGENT_PORT", Integer.toString(port),
                    "JODO_AGENT_TOKEN", "jodo_agent_it's \"quoted\" $HOME"),
                dir.resolve("brain.jodo/logs/agent.log"),
                pidFile));

    assertThat(Files.readString(pidFile).strip()).isEqualTo(Long.toString(pid));
    await(() -> healthy(port));
    assertThat(host.isAlive(pid)).isTrue();
    assertThat(new LocalHost().isAlive(pid)).as("a real process on this machine").isTrue();
    // Only what was given. (python3 may be a pyenv shim that adds PYENV_*, PWD, SHLVL and _;
    // Python itself sets LC_CTYPE when it coerces the C locale.)
    assertThat(
            Files.readAllLines(brain.resolve("env.txt")).stream()
                .filter(
                    n ->
                        !n.contains("PYENV")
                            && !List.of("PWD", "SHLVL", "_", "LC_CTYPE").contains(n)))
        .containsExactlyInAnyOrder("PATH", "JODO_AGENT_PORT", "JODO_AGENT_TOKEN");
    assertThat(Files.readAllLines(brain.resolve("env.txt")))
        .as("the SSH server's own environment stays out")
        .doesNotContain(TestSshServer.SECRET);
    assertThat(Files.readString(brain.resolve("token.txt")))
        .isEqualTo("jodo_agent_it's \"quoted\" $HOME");
    assertThat(dir.resolve("brain.jodo/agent.env"))
        .as("read and deleted before the shell became the agent")
        .doesNotExist();
    // The environment never went on a command line.
    assertThat(
            ProcessHandle.allProcesses()
                .map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains("jodo_agent_it")))
        .isEmpty();

    assertThat(host.running(pidFile, brain)).contains(pid);
    assertThat(host.running(pidFile, dir)).as("another directory is another agent").isEmpty();

    long child = Long.parseLong(Files.readString(brain.resolve("child.pid")).strip());
    host.stop(pid, Duration.ofSeconds(5));
    assertThat(host.isAlive(pid)).isFalse();
    await(() -> !new LocalHost().isAlive(child));
    assertThat(host.running(pidFile, brain)).isEmpty();
    pid = 0;
  }

  @Test
  void anAgentIgnoringSigtermIsKilledAfterTheGrace() throws Exception {
    Path brain = Files.createDirectories(dir.resolve("stubborn"));
    host.write(
        brain.resolve("main.py"),
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(600)\n"
            .getBytes(StandardCharsets.UTF_8));
    Path log = dir.resolve("stubborn.jodo/logs/agent.log");
    pid =
        host.start(
            new AgentHost.Launch(
                brain,
                List.of("python3", "main.py"),
                Map.of("PATH", System.getenv("PATH")),
                log,
                dir.resolve("stubborn.jodo/agent.pid")));
    await(() -> Files.exists(log) && readQuietly(log).contains("ready"));
    host.stop(pid, Duration.ofMillis(500));
    assertThat(host.isAlive(pid)).isFalse();
    pid = 0;
  }

  @Test
  void aStartThatFailsSaysWhyAndNeverShowsTheEnvironment() {
    Path missing = dir.resolve("no-such-brain");
    assertThatThrownBy(
            () ->
                host.start(
                    new AgentHost.Launch(
                        missing,
                        List.of("python3", "main.py"),
                        Map.of("JODO_AGENT_TOKEN", "jodo_agent_secret_value"),
                        dir.resolve("x.jodo/logs/agent.log"),
                        dir.resolve("x.jodo/agent.pid"))))
        .isInstanceOf(AgentHostException.class)
        .hasMessageStartingWith(
            "ssh "
                + System.getProperty("user.name")
                + "@127.0.0.1:"
                + server.port()
                + ": starting 'python3' 'main.py' failed (exit ")
        .hasMessageContaining(missing.toString())
        .hasMessageNotContaining("jodo_agent_secret_value");
    assertThat(dir.resolve("x.jodo/agent.pid")).doesNotExist();
  }

  @Test
  void anEnvironmentNameThatIsNotPlainIsRefusedBeforeAnythingRuns() {
    assertThatThrownBy(
            () ->
                host.start(
                    new AgentHost.Launch(
                        dir,
                        List.of("true"),
                        Map.of("A;touch pwned;B", "x"),
                        dir.resolve("x.log"),
                        dir.resolve("x.pid"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("not a valid environment variable name: A;touch pwned;B");
    assertThat(server.execs()).isZero();
  }

  @Test
  void filesAreWrittenAndFoundOverSsh() throws Exception {
    Path file = dir.resolve("deep/er/seed.py");
    assertThat(host.exists(file)).isFalse();
    host.write(file, "print('hi')\n".getBytes(StandardCharsets.UTF_8));
    assertThat(host.exists(file)).isTrue();
    assertThat(Files.readString(file)).isEqualTo("print('hi')\n");
    assertThat(host.address()).isEqualTo("127.0.0.1");
  }

  @Test
  void theFirstHostKeyIsPinnedAndADifferentOneIsRefused() throws Exception {
    assertThat(host.exists(dir)).isTrue();
    Path knownHosts = dir.resolve("home/ssh/known_hosts");
    assertThat(Files.readString(knownHosts)).startsWith("[127.0.0.1]:" + server.port() + " ecdsa-");
    int port = server.port();
    host.close();
    server.close();

    // Another machine answers on the same address, with another key.
    KeyPair otherKey = TestSshServer.hostKey();
    server = TestSshServer.start(dir.resolve("server"), port, otherKey);
    ssh = connect(port, Duration.ofSeconds(5));
    host = new SshHost(ssh);
    assertThatThrownBy(() -> host.exists(dir))
        .isInstanceOf(AgentHostException.class)
        .hasMessageContaining("host key of [127.0.0.1]:" + port + " changed")
        .hasMessageContaining(knownHosts.toString());
    assertThat(server.execs()).isZero();
  }

  @Test
  void anUnreachableHostFailsWithinTheTimeout() throws Exception {
    host.close();
    // A port where something accepts connections but never speaks SSH.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      ssh = connect(silent.getLocalPort(), Duration.ofSeconds(1));
      host = new SshHost(ssh);
      long started = System.nanoTime();
      assertThatThrownBy(() -> host.isAlive(1)).isInstanceOf(AgentHostException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }
    host.close();
    // Nothing listening at all.
    ssh = connect(freePort(), Duration.ofSeconds(1));
    host = new SshHost(ssh);
    assertThatThrownBy(() -> host.exists(dir))
        .isInstanceOf(AgentHostException.class)
        .hasMessageContaining("ssh ");
  }

  private static boolean healthy(int port) {
    try {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                      .timeout(Duration.ofSeconds(1))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 && response.body().contains("ok");
    } catch (Exception e) {
      return false;
    }
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (Exception e) {
      return "";
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static void await(java.util.function.BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(condition.getAsBoolean()).as("condition met within 20 s").isTrue();
  }
}
