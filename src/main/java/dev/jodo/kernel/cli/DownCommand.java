package dev.jodo.kernel.cli;

import dev.jodo.kernel.platform.db.PrivatePostgres;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;

@Command(
    name = "down",
    description =
        "Stop the kernel of this JODO_HOME and its private PostgreSQL. Agents keep running.")
final class DownCommand implements Callable<Integer> {
  private static final long STOP_WAIT_SECONDS = 60;
  private final CliContext context;

  DownCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws InterruptedException {
    Path home = context.home();
    KernelProcess process = new KernelProcess(home);
    boolean stoppedSomething = false;
    Optional<ProcessHandle> kernel = process.running();
    if (kernel.isPresent()) {
      ProcessHandle handle = kernel.get();
      context.out().println("stopping the kernel (pid " + handle.pid() + ")…");
      handle.destroy(); // SIGTERM: the kernel drains requests and shuts down cleanly.
      try {
        handle.onExit().get(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
        context.out().println("kernel stopped");
      } catch (TimeoutException e) {
        handle.destroyForcibly();
        context
            .err()
            .println("the kernel did not stop within " + STOP_WAIT_SECONDS + " s; killed it");
      } catch (ExecutionException e) {
        throw new IllegalStateException("waiting for pid " + handle.pid(), e);
      }
      stoppedSomething = true;
    }
    process.deleteStale();
    if (PrivatePostgres.stopIfRunning(home, line -> context.out().println(line))) {
      stoppedSomething = true;
    }
    if (!stoppedSomething) {
      context.out().println("nothing is running for " + home);
    }
    return Cli.OK;
  }
}
