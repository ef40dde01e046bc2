package dev.jodo.kernel.cli;

import dev.jodo.kernel.Main;
import dev.jodo.kernel.platform.auth.AdminTokenFile;
import dev.jodo.kernel.platform.config.KernelConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code jodo up --detach}: starts {@code jodo up} as a background process in its own session,
 * logging to {@code JODO_HOME/logs/kernel.log}, and returns once it answers {@code /healthz}.
 */
final class Detacher {
  // The first start may install and initialise PostgreSQL, which takes minutes on a slow disk.
  private static final Duration START_TIMEOUT = Duration.ofMinutes(10);

  private final CliContext context;
  private final KernelConfig config;
  private final KernelProcess process;

  Detacher(CliContext context, KernelConfig config, KernelProcess process) {
    this.context = context;
    this.config = config;
    this.process = process;
  }

  int launch() throws InterruptedException {
    Path log = config.home().resolve("logs").resolve("kernel.log");
    Process child;
    Instant launchedAt = Instant.now();
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder builder = new ProcessBuilder(command());
      builder.environment().clear();
      builder.environment().putAll(context.env());
      builder.redirectErrorStream(true);
      builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      child = builder.start();
    } catch (IOException e) {
      context.err().println("error: cannot start the kernel process: " + e.getMessage());
      return Cli.FAILED;
    }
    context.out().println("starting Jodo Kernel in the background (log: " + log + ")…");

    URI health = URI.create(config.localBaseUrl() + "/healthz");
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    Instant deadline = launchedAt.plus(START_TIMEOUT);
    Instant nextNotice = launchedAt.plusSeconds(15);
    while (Instant.now().isBefore(deadline)) {
      if (!child.isAlive()) {
        context.err().println("error: the kernel exited with code " + child.exitValue() + ":");
        tail(log, 15).forEach(line -> context.err().println("  " + line));
        return Cli.FAILED;
      }
      Optional<ProcessHandle> running = process.running();
      if (running.isPresent() && healthy(client, health)) {
        context
            .out()
            .println(
                "Jodo Kernel is up at http://localhost:"
                    + config.port()
                    + " (pid "
                    + running.get().pid()
                    + "); stop it with `jodo down`");
        printFirstBootToken(launchedAt);
        return Cli.OK;
      }
      if (Instant.now().isAfter(nextNotice)) {
        context.out().println("still starting… (" + lastLine(log) + ")");
        nextNotice = Instant.now().plusSeconds(15);
      }
      Thread.sleep(250);
    }
    context
        .err()
        .println(
            "error: the kernel did not answer "
                + health
                + " within "
                + START_TIMEOUT.toMinutes()
                + " minutes; see "
                + log);
    return Cli.FAILED;
  }

  private List<String> command() {
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      // Its own session: closing the terminal must not take the kernel with it.
      command.add("/usr/bin/setsid");
    }
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.add("up");
    command.add("--background");
    return command;
  }

  private void printFirstBootToken(Instant launchedAt) {
    AdminTokenFile file = new AdminTokenFile(config.home());
    try {
      if (Files.isRegularFile(file.path())
          && Files.getLastModifiedTime(file.path())
              .toInstant()
              .isAfter(launchedAt.minusSeconds(1))) {
        file.read().ifPresent(context::printFirstBootToken);
      }
    } catch (IOException e) {
      // The token is still in the file; `jodo token` shows it.
    }
  }

  private static boolean healthy(HttpClient client, URI health) {
    try {
      HttpResponse<Void> response =
          client.send(
              HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).GET().build(),
              HttpResponse.BodyHandlers.discarding());
      return response.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static List<String> tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return all.subList(Math.max(0, all.size() - lines), all.size());
    } catch (IOException e) {
      return List.of("(cannot read " + log + ")");
    }
  }

  private static String lastLine(Path log) {
    List<String> last = tail(log, 1);
    return last.isEmpty() ? "no output yet" : last.get(0);
  }
}
