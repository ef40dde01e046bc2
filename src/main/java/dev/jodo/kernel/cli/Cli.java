package dev.jodo.kernel.cli;

import dev.jodo.kernel.Version;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/**
 * The {@code jodo} command tree. Commands get the environment and writers through their
 * constructors, so tests run them in-process and read what they print.
 *
 * <pre>{@code
 * int code = Cli.commandLine(Map.of("JODO_HOME", "/tmp/h"), out, err).execute("config", "check");
 * }</pre>
 */
@Command(
    name = "jodo",
    mixinStandardHelpOptions = true,
    versionProvider = Cli.VersionProvider.class,
    description = "Jodo Kernel: births, feeds, remembers and supervises AI agents.",
    subcommands = {
      UpCommand.class,
      DownCommand.class,
      StatusCommand.class,
      VersionCommand.class,
      TokenCommand.class,
      ConfigCommand.class,
      MemoryCommand.class,
      AskCommand.class,
      RunsCommand.class,
      WorkflowsCommand.class
    },
    footer = {
      "",
      "From a checkout, ./jodo test runs the whole test suite.",
      "Environment: JODO_HOME (data, default ./var)",
      "             JODO_CONFIG_DIR (default ./configs)",
      "             JODO_PORT, JODO_DATABASE_URL, JODO_ADMIN_TOKEN",
      "             JODO_LOG_FORMAT=json|pretty, JODO_WORKSPACE_DIR, JODO_URL (ask, runs)"
    })
public final class Cli implements Callable<Integer> {
  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

  private final CliContext context;

  Cli(CliContext context) {
    this.context = context;
  }

  public static CommandLine commandLine(Map<String, String> env, PrintWriter out, PrintWriter err) {
    CliContext context = new CliContext(env, out, err);
    CommandLine commandLine = new CommandLine(new Cli(context), new Factory(context));
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          err.println("error: " + e.getMessage());
          return FAILED;
        });
    return commandLine;
  }

  @Override
  public Integer call() {
    new CommandLine(new Cli(context), new Factory(context)).usage(context.out());
    return OK;
  }

  static final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"jodo-kernel " + Version.current()};
    }
  }

  /** Builds commands with the shared context; picocli's own types with their defaults. */
  private record Factory(CliContext context) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> type) throws Exception {
      try {
        return type.getDeclaredConstructor(CliContext.class).newInstance(context);
      } catch (NoSuchMethodException e) {
        return CommandLine.defaultFactory().create(type);
      }
    }
  }
}
