package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;

/**
 * What the gateway sends to one provider: a concrete model, the system prompt apart from the
 * messages (Anthropic keeps it apart; the others get it as a leading system message), and the
 * sampling limits. {@code toolChoice} is OpenAI's {@code tool_choice} value or null.
 */
public record ChatRequest(
    String model,
    String system,
    List<ChatMessage> messages,
    int maxTokens,
    double temperature,
    List<ToolSpec> tools,
    JsonNode toolChoice,
    List<String> stop) {

  public ChatRequest {
    Objects.requireNonNull(model, "model");
    messages = List.copyOf(messages);
    tools = tools == null ? List.of() : List.copyOf(tools);
    stop = stop == null ? List.of() : List.copyOf(stop);
  }

  public ChatRequest withModel(String newModel) {
    return new ChatRequest(
        newModel, system, messages, maxTokens, temperature, tools, toolChoice, stop);
  }
}
