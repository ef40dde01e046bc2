package dev.jodo.kernel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jodo.kernel.platform.config.KernelConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Seed 001's {@code ask}: sends a message event to the running kernel and prints the run's result,
 * {@code {"run_id", "status", "output"}} with {@code --json}.
 */
@Command(name = "ask", description = "Send a message to the agent and print its reply.")
final class AskCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final CliContext context;

  @Parameters(index = "0", paramLabel = "TEXT", description = "The message.")
  String text;

  @Option(names = "--json", description = "Print {run_id, status, output} as JSON.")
  boolean json;

  @Option(
      names = "--conversation",
      paramLabel = "KEY",
      description = "The conversation (default cli:default); its runs go one at a time, in order.")
  String conversation = "cli:default";

  @Option(names = "--no-wait", description = "Print the run id and return at once.")
  boolean noWait;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      description = "How long to wait for the run (default 300).")
  int timeoutSeconds = 300;

  AskCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws InterruptedException {
    KernelConfig config = context.configOrReport();
    if (config == null) {
      return Cli.USAGE;
    }
    KernelClient kernel = new KernelClient(context, config);
    ObjectNode event = JSON.createObjectNode();
    event.put("schema_version", 1);
    event.put("type", "message");
    event.put("conversation_key", conversation);
    event.put("user_key", "cli");
    event.put("text", text);
    try {
      KernelClient.Answer accepted = kernel.post("/v1/events", event);
      if (accepted.status() != 202) {
        context.err().println("jodo ask: " + accepted.error());
        return Cli.FAILED;
      }
      String runId = accepted.body().path("run_id").asText();
      if (noWait) {
        print(runId, "queued", null);
        return Cli.OK;
      }
      long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
      JsonNode run;
      while (true) {
        KernelClient.Answer answer = kernel.get("/v1/runs/" + runId);
        run = answer.body();
        String status = run.path("status").asText();
        if (answer.status() == 200 && (status.equals("succeeded") || status.equals("failed"))) {
          break;
        }
        if (System.nanoTime() - deadline > 0) {
          print(runId, status, null);
          context.err().println("jodo ask: still " + status + " after " + timeoutSeconds + " s");
          return Cli.FAILED;
        }
        Thread.sleep(50);
      }
      boolean ok = run.path("status").asText().equals("succeeded");
      if (json) {
        ObjectNode out = JSON.createObjectNode();
        out.put("run_id", runId);
        out.put("status", run.path("status").asText());
        if (ok) {
          out.put("output", run.path("output").asText());
        } else {
          out.put("error", run.path("error").asText());
        }
        context.out().println(out);
      } else if (ok) {
        context.out().println(run.path("output").asText());
      } else {
        context.err().println("jodo ask: the run failed: " + run.path("error").asText());
      }
      return ok ? Cli.OK : Cli.FAILED;
    } catch (KernelClient.Unreachable e) {
      context.err().println("jodo ask: " + e.getMessage());
      return Cli.USAGE;
    }
  }

  private void print(String runId, String status, String output) {
    if (json) {
      ObjectNode out = JSON.createObjectNode();
      out.put("run_id", runId);
      out.put("status", status);
      if (output != null) {
        out.put("output", output);
      }
      context.out().println(out);
    } else {
      context.out().println(runId);
    }
  }
}
