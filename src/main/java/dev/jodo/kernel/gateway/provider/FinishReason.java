package dev.jodo.kernel.gateway.provider;

/** Why generation stopped, in OpenAI's vocabulary ({@code stop}, {@code length}, ...). */
public enum FinishReason {
  STOP("stop"),
  LENGTH("length"),
  TOOL_CALLS("tool_calls"),
  CONTENT_FILTER("content_filter");

  private final String wire;

  FinishReason(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }
}
