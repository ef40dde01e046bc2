package dev.jodo.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.testing.TestHttp;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The launcher end to end, as a new user runs it: no database configured, {@code ./jodo up
 * --detach} provisions a private Postgres, serves, and {@code ./jodo down} leaves nothing behind.
 * Runs after {@code package}, so the jar is fresh and the launcher must not rebuild it.
 */
class LauncherIT {
  private static final Path ROOT = Path.of("").toAbsolutePath();
  private Path home;
  private int port;

  record Run(int code, String out, String err) {}

  @BeforeEach
  void freshHome() throws IOException {
    // Traversable by others: as root, the private Postgres runs as an unprivileged user.
    home =
        Files.createTempDirectory(
            "jodo-launcher-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
  }

  @AfterEach
  void cleanUp() throws Exception {
    run(env(Map.of()), "down", "--agents");
    try (Stream<Path> files = Files.walk(home)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private Map<String, String> env(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.keySet()
        .removeIf(k -> k.startsWith("JODO_") || k.startsWith("JAVA_TOOL") || k.startsWith("MAVEN"));
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("JODO_HOME", home.toString());
    env.put("JODO_PORT", Integer.toString(port));
    env.putAll(extra);
    return env;
  }

  private Run run(Map<String, String> env, String... args) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(
            Stream.concat(Stream.of(ROOT.resolve("jodo").toString()), Stream.of(args)).toList());
    builder.directory(ROOT.toFile());
    builder.environment().clear();
    builder.environment().putAll(env);
    Path out = Files.createTempFile("jodo-out", ".txt");
    Path err = Files.createTempFile("jodo-err", ".txt");
    builder.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process process = builder.start();
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("jodo %s finished", List.of(args)).isTrue();
    Run run = new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return run;
  }

  @Test
  void upDetachServesAndDownLeavesNoProcessBehind() throws Exception {
    Map<String, String> env = env(Map.of("JODO_LOG_FORMAT", "json"));

    Run version = run(env, "version");
    assertThat(version.code()).isZero();
    assertThat(version.out()).isEqualTo("jodo-kernel 0.1.0\n");
    assertThat(version.err()).as("a fresh jar is not rebuilt").doesNotContain("building");

    Run up = run(env, "up", "--detach");
    assertThat(up.code()).as(up.err()).isZero();
    assertThat(up.out()).contains("Jodo Kernel is up at http://localhost:" + port);
    String printedToken = up.out().replaceAll("(?s).*admin token \\([^)]*\\): (\\S+).*", "$1");
    assertThat(printedToken).startsWith("jodo_admin_");

    TestHttp http = new TestHttp(port);
    assertThat(http.get("/healthz", null).status()).isEqualTo(200);

    Run token = run(env, "token");
    assertThat(token.out().strip()).isEqualTo(printedToken);
    TestHttp.Response status = http.get("/api/status", printedToken);
    assertThat(status.status()).isEqualTo(200);
    assertThat(status.json().path("database").path("status").asText()).isEqualTo("connected");

    Run statusCommand = run(env, "status");
    assertThat(statusCommand.code()).isZero();
    assertThat(statusCommand.out())
        .contains("kernel: running (pid ")
        .contains("\"memories_stored\":0");

    Run second = run(env, "up", "--detach");
    assertThat(second.code()).isEqualTo(1);
    assertThat(second.err()).contains("a kernel is already running for " + home);

    long kernelPid = Long.parseLong(Files.readString(home.resolve("kernel.pid")).strip());
    long postmasterPid =
        Long.parseLong(
            Files.readAllLines(home.resolve("postgres/data/postmaster.pid")).get(0).strip());
    assertThat(ProcessHandle.of(postmasterPid))
        .hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());

    // The repository's config supervises the genesis agent: its brain gets the seed.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(home.resolve("agents/jodo/brain/seed.py"))
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(home.resolve("agents/jodo/brain/seed.py")).exists();
    assertThat(home.resolve("agents/jodo/agent.token")).exists();

    Run down = run(env, "down", "--agents");
    assertThat(down.code()).as(down.err()).isZero();
    assertThat(down.out())
        .contains("stopping the kernel (pid " + kernelPid + ")")
        .contains("kernel stopped");

    assertThat(ProcessHandle.of(kernelPid).filter(ProcessHandle::isAlive)).isEmpty();
    assertThat(ProcessHandle.of(postmasterPid).filter(ProcessHandle::isAlive)).isEmpty();
    assertThat(
            ProcessHandle.allProcesses()
                .filter(
                    p ->
                        p.info().commandLine().map(c -> c.contains(home.toString())).orElse(false)
                            || workingDirectory(p).startsWith(home))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("")))
        .as("processes of this home still running")
        .isEmpty();
    assertThat(home.resolve("kernel.pid")).doesNotExist();

    String log = Files.readString(home.resolve("logs/kernel.log"));
    assertThat(log)
        .as("the kernel shut down cleanly on SIGTERM")
        .contains("\"message\":\"Jodo Kernel stopped\"");
    assertThat(log)
        .as("request lines are structured")
        .contains("\"path\":\"/api/status\"")
        .contains("\"status\":200");
    assertThat(log).as("no secret in the log").doesNotContain(printedToken);

    Run nothing = run(env, "down");
    assertThat(nothing.out()).isEqualTo("nothing is running for " + home + "\n");
  }

  @Test
  void launcherWithoutAJdk21ExplainsWhatToInstall() throws Exception {
    Path fakeJdk = Files.createDirectories(home.resolve("jdk-17/bin"));
    Files.writeString(home.resolve("jdk-17/release"), "JAVA_VERSION=\"17.0.9\"\n");
    Path java = fakeJdk.resolve("java");
    Files.writeString(java, "#!/bin/sh\nexit 1\n");
    java.toFile().setExecutable(true);
    Path emptySearch = Files.createDirectories(home.resolve("no-jdks"));

    Run run =
        run(
            env(
                Map.of(
                    "JAVA_HOME",
                    home.resolve("jdk-17").toString(),
                    "JODO_JDK_SEARCH_DIR",
                    emptySearch.toString())),
            "version");
    assertThat(run.code()).isEqualTo(1);
    assertThat(run.err())
        .isEqualTo(
            "jodo: Jodo Kernel needs a JDK 21 or newer, and none was found.\n"
                + "      looked at JAVA_HOME and "
                + emptySearch
                + "/*; found: 17@"
                + home.resolve("jdk-17")
                + "\n"
                + "      install one (e.g. sudo apt-get install openjdk-21-jdk-headless) or set JAVA_HOME.\n");
  }

  @Test
  void upWithAnInvalidConfigStopsWithTheProblems() throws Exception {
    Path configs = Files.createDirectories(home.resolve("configs"));
    Files.writeString(configs.resolve("config.yaml"), "kernel:\n  prot: 8080\n");
    Files.copy(ROOT.resolve("configs/genesis.yaml"), configs.resolve("genesis.yaml"));
    Run run = run(env(Map.of("JODO_CONFIG_DIR", configs.toString())), "up", "--detach");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("config.yaml: kernel.prot: unknown key; did you mean 'port'?");
    assertThat(home.resolve("kernel.pid")).doesNotExist();
  }

  private static Path workingDirectory(ProcessHandle process) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Long.toString(process.pid()), "cwd"));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return Path.of("/nonexistent");
    }
  }
}
