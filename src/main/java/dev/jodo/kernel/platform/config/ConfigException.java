package dev.jodo.kernel.platform.config;

import java.util.List;
import java.util.stream.Collectors;

/** Startup stops with every problem found, one line each, instead of the first one only. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient List<ConfigProblem> problems;

  public ConfigException(List<ConfigProblem> problems) {
    super(render(problems));
    this.problems = List.copyOf(problems);
  }

  public List<ConfigProblem> problems() {
    return problems;
  }

  private static String render(List<ConfigProblem> problems) {
    String lines = problems.stream().map(p -> "  " + p).collect(Collectors.joining("\n"));
    return "configuration has "
        + problems.size()
        + (problems.size() == 1 ? " problem" : " problems")
        + ":\n"
        + lines;
  }
}
