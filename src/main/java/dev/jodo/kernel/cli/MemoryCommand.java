package dev.jodo.kernel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.auth.AdminTokenFile;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "memory",
    description = "Manage semantic memory.",
    subcommands = {MemoryCommand.Reindex.class})
final class MemoryCommand implements Callable<Integer> {
  private final CliContext context;

  MemoryCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    context.err().println("usage: jodo memory reindex [--rebuild]");
    return Cli.USAGE;
  }

  @Command(
      name = "reindex",
      description =
          "Re-embed memories made with another model than memory.embedder's (after changing it);"
              + " --rebuild also rebuilds the running kernel's index from Postgres.")
  static final class Reindex implements Callable<Integer> {
    private final CliContext context;

    @Option(names = "--rebuild", description = "Also rebuild the Lucene index from Postgres.")
    boolean rebuild;

    Reindex(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
      KernelConfig config = context.configOrReport();
      if (config == null) {
        return Cli.USAGE;
      }
      if (new KernelProcess(config.home()).running().isEmpty()) {
        context.err().println("the kernel is not running; start it with `jodo up --detach` first");
        return Cli.FAILED;
      }
      Optional<Secret> token =
          config.adminToken().or(() -> new AdminTokenFile(config.home()).read());
      if (token.isEmpty()) {
        context.err().println("no admin token on this machine; set JODO_ADMIN_TOKEN");
        return Cli.FAILED;
      }
      URI uri =
          URI.create(
              config.localBaseUrl() + "/api/memory/reindex" + (rebuild ? "?rebuild=true" : ""));
      HttpRequest request =
          HttpRequest.newBuilder(uri)
              .header("Authorization", "Bearer " + token.get().value())
              .POST(HttpRequest.BodyPublishers.noBody())
              .build();
      ObjectMapper mapper = new ObjectMapper();
      try (HttpClient client =
          HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
        HttpResponse<InputStream> response =
            client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader lines =
            new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
          if (response.statusCode() != 200) {
            context
                .err()
                .println(
                    "reindex failed (HTTP " + response.statusCode() + "): " + lines.readLine());
            return Cli.FAILED;
          }
          String line;
          while ((line = lines.readLine()) != null) {
            JsonNode event = mapper.readTree(line);
            if (event.has("progress")) {
              context.out().println(event.get("progress").asText());
            } else if (event.path("done").asBoolean()) {
              context
                  .out()
                  .println(
                      "done: "
                          + event.path("reembedded").asLong()
                          + " re-embedded, index at change "
                          + event.path("indexed_up_to").asLong());
            }
          }
        }
        return Cli.OK;
      } catch (IOException e) {
        context.err().println("cannot reach the kernel at " + uri + ": " + e.getMessage());
        return Cli.FAILED;
      }
    }
  }
}
