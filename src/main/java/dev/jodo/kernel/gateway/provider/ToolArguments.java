package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * Tool-call arguments between the canonical JSON text and the JSON object Anthropic ({@code input})
 * and Ollama ({@code arguments}) put on the wire.
 */
final class ToolArguments {
  private ToolArguments() {}

  /** The arguments as an object; a blank text is no arguments. */
  static ObjectNode toObject(ObjectMapper mapper, String provider, ToolCall call)
      throws ProviderException.Rejected {
    String text = call.argumentsJson();
    if (text == null || text.isBlank()) {
      return mapper.createObjectNode();
    }
    try {
      JsonNode parsed = mapper.readTree(text);
      if (parsed instanceof ObjectNode object) {
        return object;
      }
    } catch (IOException notJson) {
      // Reported below with the same message as a non-object.
    }
    throw new ProviderException.Rejected(
        400,
        provider
            + " needs tool call arguments as a JSON object; tool call "
            + call.id()
            + " ("
            + call.name()
            + ") has: "
            + abbreviate(text));
  }

  /** The canonical JSON text of an arguments object (absent arguments are {@code {}}). */
  static String toText(ObjectMapper mapper, JsonNode arguments) {
    if (arguments == null || arguments.isMissingNode() || arguments.isNull()) {
      return "{}";
    }
    if (arguments.isTextual()) {
      // Some servers already send the JSON text, as OpenAI does.
      return arguments.asText();
    }
    try {
      return mapper.writeValueAsString(arguments);
    } catch (IOException e) {
      throw new IllegalStateException("a parsed JSON tree failed to serialize", e);
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 80 ? text : text.substring(0, 80) + "...";
  }
}
