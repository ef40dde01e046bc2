package dev.jodo.kernel.gateway.provider;

/** Token counts of one call, as the provider reported them or as the kernel counted them. */
public record Usage(int inputTokens, int outputTokens) {
  public int total() {
    return inputTokens + outputTokens;
  }
}
