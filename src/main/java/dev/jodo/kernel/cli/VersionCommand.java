package dev.jodo.kernel.cli;

import dev.jodo.kernel.Version;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "version", description = "Print the kernel's version.")
final class VersionCommand implements Callable<Integer> {
  private final CliContext context;

  VersionCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    context.out().println("jodo-kernel " + Version.current());
    return Cli.OK;
  }
}
