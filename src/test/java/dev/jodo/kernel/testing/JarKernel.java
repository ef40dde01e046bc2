package dev.jodo.kernel.testing;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The packaged kernel ({@code target/jodo-kernel.jar}) as a real process for crash tests: {@code
 * up} in the foreground with its own home and config under {@code dir}, on {@code database},
 * started once it answers {@code /healthz}. Kill it with {@code process().destroyForcibly()}.
 */
public record JarKernel(Process process, int port, TestHttp http) {
  private static final Path JAR = Path.of("target/jodo-kernel.jar").toAbsolutePath();

  public static JarKernel start(
      Path dir, String config, DatabaseTarget.External database, Map<String, String> extraEnv)
      throws IOException, InterruptedException {
    Path configDir = TestConfigs.directory(dir, config, TestConfigs.GENESIS);
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Map<String, String> env = new HashMap<>();
    env.put("PATH", System.getenv("PATH"));
    env.put("JODO_HOME", dir.resolve("home").toString());
    env.put("JODO_CONFIG_DIR", configDir.toString());
    env.put("JODO_PORT", Integer.toString(port));
    env.put(
        "JODO_DATABASE_URL",
        database.jdbcUrl()
            + (database.jdbcUrl().contains("?") ? "&" : "?")
            + "user="
            + database.user()
            + "&password="
            + URLEncoder.encode(database.password().value(), StandardCharsets.UTF_8));
    env.putAll(extraEnv);
    ProcessBuilder builder =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-modules",
            "jdk.incubator.vector",
            "-jar",
            JAR.toString(),
            "up");
    builder.environment().clear();
    builder.environment().putAll(env);
    Path log = Files.createDirectories(dir).resolve("stdout.txt");
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    Process process = builder.start();
    TestHttp http = new TestHttp(port);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("kernel in " + dir + " exited: " + Files.readString(log));
      }
      try {
        if (http.get("/healthz", null).status() == 200) {
          return new JarKernel(process, port, http);
        }
      } catch (RuntimeException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    process.destroyForcibly();
    throw new IllegalStateException(
        "kernel in " + dir + " did not start within 60 s: " + Files.readString(log));
  }
}
