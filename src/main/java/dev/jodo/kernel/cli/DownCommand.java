package dev.jodo.kernel.cli;

import dev.jodo.kernel.agents.LocalHost;
import dev.jodo.kernel.platform.config.AgentConfig;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.db.PrivatePostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "down",
    description =
        "Stop the kernel of this JODO_HOME and its private PostgreSQL. Agents keep running"
            + " unless --agents is given.")
final class DownCommand implements Callable<Integer> {
  @Option(
      names = "--agents",
      description = "Also stop the agents this machine runs (local hosts in config.yaml).")
  boolean agents;

  private static final long STOP_WAIT_SECONDS = 60;
  private final CliContext context;

  DownCommand(CliContext context) {
    this.context = context;
  }

  /** The config if it loads; a plain {@code down} must work even with a broken config. */
  private KernelConfig quietConfig() {
    try {
      return context.loader().load();
    } catch (RuntimeException e) {
      return null;
    }
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
    int agentsLeft = 0;
    KernelConfig config = agents ? context.configOrReport() : quietConfig();
    if (config != null) {
      LocalHost host = new LocalHost();
      for (AgentConfig agent : config.agents()) {
        if (!agent.isLocal()) {
          continue;
        }
        Optional<Long> pid =
            host.running(agent.home(home).resolve("agent.pid"), agent.brainDir(home));
        if (pid.isEmpty()) {
          continue;
        }
        if (agents) {
          host.stop(pid.get(), Duration.ofSeconds(10));
          context.out().println("agent " + agent.name() + " stopped (pid " + pid.get() + ")");
          stoppedSomething = true;
        } else {
          agentsLeft++;
        }
      }
    } else if (agents) {
      return Cli.FAILED;
    }
    if (agentsLeft > 0) {
      context
          .out()
          .println(agentsLeft + " agent(s) keep running; `jodo down --agents` stops them too");
    }
    if (!stoppedSomething) {
      context.out().println("nothing is running for " + home);
    }
    return Cli.OK;
  }
}
