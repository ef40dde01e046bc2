package dev.jodo.kernel.gateway.provider;

import java.util.List;
import java.util.Objects;

/**
 * One message of a conversation in the kernel's canonical form (OpenAI's chat shape, which every
 * provider client translates to and from). {@code content} is null for an assistant message that
 * only calls tools; {@code toolCallId} is set on {@code tool} messages.
 */
public record ChatMessage(
    String role, String content, List<ToolCall> toolCalls, String toolCallId) {
  public ChatMessage {
    Objects.requireNonNull(role, "role");
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage("user", content, List.of(), null);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage("assistant", content, List.of(), null);
  }

  public static ChatMessage tool(String toolCallId, String content) {
    return new ChatMessage("tool", content, List.of(), toolCallId);
  }
}
