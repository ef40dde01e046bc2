package dev.jodo.kernel.platform.config;

/**
 * One thing wrong with the configuration: where it is ({@code file} and dotted {@code path}) and
 * what to do about it. Rendered as {@code config.yaml: kernel.port: 'abc' is not ...; set ...}.
 */
public record ConfigProblem(String file, String path, String message) {

  @Override
  public String toString() {
    return file + ": " + path + ": " + message;
  }
}
