package dev.jodo.kernel.cli;

import dev.jodo.kernel.platform.auth.AdminTokenFile;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "status", description = "Show whether the kernel runs and what it reports.")
final class StatusCommand implements Callable<Integer> {
  private final CliContext context;

  StatusCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws InterruptedException {
    KernelConfig config = context.configOrReport();
    if (config == null) {
      return Cli.USAGE;
    }
    Optional<ProcessHandle> kernel = new KernelProcess(config.home()).running();
    if (kernel.isEmpty()) {
      context.out().println("kernel: not running (data in " + config.home() + ")");
      return Cli.FAILED;
    }
    String base = config.localBaseUrl();
    context.out().println("kernel: running (pid " + kernel.get().pid() + ") at " + base);
    Optional<Secret> token = config.adminToken().or(() -> new AdminTokenFile(config.home()).read());
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(base + "/api/status")).timeout(Duration.ofSeconds(5));
      token.ifPresent(t -> request.header("Authorization", "Bearer " + t.value()));
      HttpResponse<String> response =
          client.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
      context.out().println(response.body());
      return response.statusCode() == 200 ? Cli.OK : Cli.FAILED;
    } catch (IOException e) {
      context.out().println("kernel does not answer at " + base + ": " + e.getMessage());
      return Cli.FAILED;
    }
  }
}
