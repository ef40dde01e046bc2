package dev.jodo.kernel;

import dev.jodo.kernel.cli.Cli;
import java.io.PrintWriter;

/** Entry point of the jar: {@code jodo <command>}. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    int code =
        Cli.commandLine(
                System.getenv(),
                new PrintWriter(System.out, true),
                new PrintWriter(System.err, true))
            .execute(args);
    System.exit(code);
  }
}
