package dev.jodo.kernel.cli;

import dev.jodo.kernel.runs.RunsModule;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(
    name = "workflows",
    description = "Inspect the workspace's declarative workflows.",
    subcommands = {WorkflowsCommand.Check.class})
final class WorkflowsCommand implements Callable<Integer> {
  private final CliContext context;

  WorkflowsCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    context.err().println("usage: jodo workflows check");
    return Cli.USAGE;
  }

  @Command(
      name = "check",
      description =
          "Read workflows/*.yaml in the workspace as the kernel does; list the valid ones and"
              + " every problem with its file and line.")
  static final class Check implements Callable<Integer> {
    private final CliContext context;

    Check(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      Path workspace = context.loader().workspaceDir();
      RunsModule.WorkflowCheck check = RunsModule.checkWorkflows(workspace);
      Path folder = workspace.resolve("workflows");
      if (check.workflows().isEmpty() && check.problems().isEmpty()) {
        context.out().println("no workflow files in " + folder);
      }
      check.workflows().forEach(w -> context.out().println("ok: " + w));
      if (!check.problems().isEmpty()) {
        context
            .err()
            .println(
                check.problems().size()
                    + (check.problems().size() == 1 ? " problem" : " problems")
                    + " in "
                    + folder
                    + " (those files are not loaded):");
        check.problems().forEach(p -> context.err().println("  " + p));
        return Cli.USAGE;
      }
      return Cli.OK;
    }
  }
}
