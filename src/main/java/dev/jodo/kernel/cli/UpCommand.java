package dev.jodo.kernel.cli;

import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.Version;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.logging.Logging;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "up",
    description = "Start the kernel (foreground; --detach runs it in the background).")
final class UpCommand implements Callable<Integer> {
  private final CliContext context;

  @Option(
      names = "--detach",
      description = "Run in the background; pid in JODO_HOME/kernel.pid, log in JODO_HOME/logs.")
  boolean detach;

  // Set by --detach on the process it launches, whose output is the log file: the token that
  // the first boot creates is then printed by the launching terminal, never into the log.
  @Option(names = "--background", hidden = true)
  boolean background;

  UpCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws InterruptedException {
    KernelConfig config = context.configOrReport();
    if (config == null) {
      return Cli.USAGE;
    }
    KernelProcess process = new KernelProcess(config.home());
    Optional<ProcessHandle> running = process.running();
    if (running.isPresent()) {
      context
          .err()
          .println(
              "a kernel is already running for "
                  + config.home()
                  + " (pid "
                  + running.get().pid()
                  + "); `jodo down` stops it");
      return Cli.FAILED;
    }
    if (detach) {
      return new Detacher(context, config, process).launch();
    }
    Logging.configure(config.logFormat(), config.logLevel());
    Kernel kernel;
    try {
      kernel = Kernel.start(config, Kernel.Options.defaults());
    } catch (RuntimeException e) {
      context.err().println("error: the kernel did not start: " + e.getMessage());
      return Cli.FAILED;
    }
    long pid = ProcessHandle.current().pid();
    process.write(pid);
    context
        .out()
        .println(
            "Jodo Kernel "
                + Version.current()
                + " is up at http://localhost:"
                + kernel.port()
                + " (pid "
                + pid
                + ", data in "
                + config.home()
                + ")");
    kernel
        .firstBootAdminToken()
        .filter(token -> !background)
        .ifPresent(context::printFirstBootToken);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  kernel.close();
                  process.deleteIfOwnedBy(pid);
                  stopped.countDown();
                },
                "jodo-shutdown"));
    stopped.await();
    return Cli.OK;
  }
}
