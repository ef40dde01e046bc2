package dev.jodo.kernel.cli;

import dev.jodo.kernel.platform.config.ConfigLoader;
import dev.jodo.kernel.platform.config.ConfigProblem;
import dev.jodo.kernel.platform.config.KernelConfig;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(
    name = "config",
    description = "Inspect the configuration.",
    subcommands = {ConfigCommand.Check.class})
final class ConfigCommand implements Callable<Integer> {
  private final CliContext context;

  ConfigCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    context.err().println("usage: jodo config check");
    return Cli.USAGE;
  }

  @Command(
      name = "check",
      description = "Validate config.yaml and genesis.yaml; list every problem.")
  static final class Check implements Callable<Integer> {
    private final CliContext context;

    Check(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      ConfigLoader loader = context.loader();
      List<ConfigProblem> problems = loader.check();
      if (!problems.isEmpty()) {
        context
            .err()
            .println(
                problems.size()
                    + (problems.size() == 1 ? " problem" : " problems")
                    + " in "
                    + loader.configDir()
                    + ":");
        problems.forEach(p -> context.err().println("  " + p));
        return Cli.USAGE;
      }
      KernelConfig config = loader.load();
      config.warnings().forEach(w -> context.out().println("warning: " + w));
      long enabled = config.providers().values().stream().filter(p -> p.enabled()).count();
      context
          .out()
          .println(
              "configuration in "
                  + loader.configDir()
                  + " is valid: "
                  + config.providers().size()
                  + " providers ("
                  + enabled
                  + " enabled), port "
                  + config.port()
                  + ", data in "
                  + config.home());
      return Cli.OK;
    }
  }
}
