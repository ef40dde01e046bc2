package dev.jodo.kernel.cli;

import dev.jodo.kernel.platform.config.KernelConfig;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jodo runs get ID} and {@code jodo runs list}: the runs API, printed as JSON. */
@Command(
    name = "runs",
    description = "Show durable runs.",
    subcommands = {RunsCommand.Get.class, RunsCommand.ListRuns.class})
final class RunsCommand implements Callable<Integer> {
  private final CliContext context;

  RunsCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    context.err().println("use `jodo runs get ID` or `jodo runs list`");
    return Cli.USAGE;
  }

  static int show(CliContext context, String path) throws InterruptedException {
    KernelConfig config = context.configOrReport();
    if (config == null) {
      return Cli.USAGE;
    }
    try {
      KernelClient.Answer answer = new KernelClient(context, config).get(path);
      if (answer.status() != 200) {
        context.err().println("jodo runs: " + answer.error());
        return Cli.FAILED;
      }
      context.out().println(answer.body().toPrettyString());
      return Cli.OK;
    } catch (KernelClient.Unreachable e) {
      context.err().println("jodo runs: " + e.getMessage());
      return Cli.USAGE;
    }
  }

  @Command(name = "get", description = "One run: status, output or error, steps.")
  static final class Get implements Callable<Integer> {
    private final CliContext context;

    @Parameters(index = "0", paramLabel = "ID")
    String id;

    Get(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
      return show(context, "/v1/runs/" + URLEncoder.encode(id, StandardCharsets.UTF_8));
    }
  }

  @Command(name = "list", description = "Runs, newest first.")
  static final class ListRuns implements Callable<Integer> {
    private final CliContext context;

    @Option(names = "--conversation", paramLabel = "KEY")
    String conversation;

    @Option(
        names = "--status",
        paramLabel = "STATUS",
        description = "queued, running, succeeded or failed")
    String status;

    @Option(names = "--limit", paramLabel = "N", description = "1-100 (default 20)")
    int limit = 20;

    ListRuns(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
      StringBuilder query = new StringBuilder("/v1/runs?limit=" + limit);
      if (conversation != null) {
        query
            .append("&conversation_key=")
            .append(URLEncoder.encode(conversation, StandardCharsets.UTF_8));
      }
      if (status != null) {
        query.append("&status=").append(URLEncoder.encode(status, StandardCharsets.UTF_8));
      }
      return show(context, query.toString());
    }
  }
}
