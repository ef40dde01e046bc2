package dev.jodo.kernel.gateway.provider;

import java.util.List;
import java.util.Optional;

/**
 * A finished chat call. {@code reportedUsage} is empty when the provider reported no usage (then
 * the gateway counts tokens itself); {@code model} is the model name the provider answered with.
 */
public record ChatResult(
    String content,
    List<ToolCall> toolCalls,
    FinishReason finishReason,
    Optional<Usage> reportedUsage,
    String model) {

  public ChatResult {
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
  }
}
