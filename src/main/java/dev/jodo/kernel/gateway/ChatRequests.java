package dev.jodo.kernel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.gateway.provider.ChatMessage;
import dev.jodo.kernel.gateway.provider.ChatRequest;
import dev.jodo.kernel.gateway.provider.ToolCall;
import dev.jodo.kernel.gateway.provider.ToolSpec;
import dev.jodo.kernel.platform.http.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads chat requests in OpenAI's shape (which seed 000's {@code /api/think} shares for {@code
 * system}, {@code messages}, {@code max_tokens} and {@code temperature}) into the canonical {@link
 * ChatRequest}, answering bad input with a 400 that names the field.
 */
final class ChatRequests {
  static final int DEFAULT_MAX_TOKENS = 1000;
  static final double DEFAULT_TEMPERATURE = 0.7;
  private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  private ChatRequests() {}

  static ChatRequest read(JsonNode body) {
    StringBuilder system = new StringBuilder(text(body, "system"));
    JsonNode messages = body.get("messages");
    if (messages == null || messages.isNull()) {
      throw ApiException.invalidField("messages", "missing; send at least one message");
    }
    if (!messages.isArray()) {
      throw ApiException.invalidField("messages", "expected a list of {role, content} objects");
    }
    if (messages.isEmpty()) {
      throw ApiException.invalidField("messages", "empty; send at least one message");
    }
    List<ChatMessage> conversation = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      String field = "messages[" + i + "]";
      JsonNode message = messages.get(i);
      if (!message.isObject()) {
        throw ApiException.invalidField(field, "expected an object with role and content");
      }
      String role = message.path("role").asText("");
      if (!ROLES.contains(role)) {
        throw ApiException.invalidField(
            field + ".role",
            (role.isEmpty() ? "missing" : "'" + role + "' is not a role")
                + "; use system, user, assistant or tool");
      }
      String content = content(message.get("content"), field + ".content");
      List<ToolCall> calls = toolCalls(message.get("tool_calls"), field + ".tool_calls");
      if (role.equals("system")) {
        // Providers differ on where system text goes; the clients place it, so keep it apart.
        system.append(system.isEmpty() ? "" : "\n\n").append(content == null ? "" : content);
        continue;
      }
      if (content == null && calls.isEmpty()) {
        throw ApiException.invalidField(field + ".content", "missing; send the message text");
      }
      String toolCallId = message.path("tool_call_id").asText(null);
      if (role.equals("tool") && (toolCallId == null || toolCallId.isBlank())) {
        throw ApiException.invalidField(
            field + ".tool_call_id", "missing; a tool message answers one tool call by its id");
      }
      conversation.add(new ChatMessage(role, content, calls, toolCallId));
    }
    if (conversation.isEmpty()) {
      throw ApiException.invalidField("messages", "only system messages; add a user message");
    }
    return new ChatRequest(
        "",
        system.isEmpty() ? null : system.toString(),
        conversation,
        maxTokens(body),
        temperature(body),
        tools(body.get("tools")),
        body.hasNonNull("tool_choice") ? body.get("tool_choice") : null,
        stop(body.get("stop")));
  }

  private static String text(JsonNode body, String field) {
    JsonNode value = body.get(field);
    if (value == null || value.isNull()) {
      return "";
    }
    if (!value.isTextual()) {
      throw ApiException.invalidField(field, "expected a string");
    }
    return value.asText();
  }

  /** A string, or OpenAI's list of parts of which only text parts are supported. */
  private static String content(JsonNode content, String field) {
    if (content == null || content.isNull()) {
      return null;
    }
    if (content.isTextual()) {
      return content.asText();
    }
    if (content.isArray()) {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < content.size(); i++) {
        JsonNode part = content.get(i);
        if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
          throw ApiException.invalidField(
              field + "[" + i + "]", "only {\"type\":\"text\",\"text\":...} parts are supported");
        }
        text.append(part.get("text").asText());
      }
      return text.toString();
    }
    throw ApiException.invalidField(field, "expected a string or a list of text parts");
  }

  private static List<ToolCall> toolCalls(JsonNode calls, String field) {
    List<ToolCall> result = new ArrayList<>();
    if (calls == null || calls.isNull()) {
      return result;
    }
    if (!calls.isArray()) {
      throw ApiException.invalidField(field, "expected a list");
    }
    for (int i = 0; i < calls.size(); i++) {
      JsonNode function = calls.get(i).path("function");
      String name = function.path("name").asText("");
      if (name.isEmpty()) {
        throw ApiException.invalidField(field + "[" + i + "].function.name", "missing");
      }
      JsonNode arguments = function.get("arguments");
      String json =
          arguments == null || arguments.isNull()
              ? "{}"
              : arguments.isTextual() ? arguments.asText() : arguments.toString();
      result.add(new ToolCall(calls.get(i).path("id").asText("call_" + i), name, json));
    }
    return result;
  }

  private static List<ToolSpec> tools(JsonNode tools) {
    List<ToolSpec> result = new ArrayList<>();
    if (tools == null || tools.isNull()) {
      return result;
    }
    if (!tools.isArray()) {
      throw ApiException.invalidField("tools", "expected a list of {type: function, function}");
    }
    for (int i = 0; i < tools.size(); i++) {
      JsonNode function = tools.get(i).path("function");
      String name = function.path("name").asText("");
      if (name.isEmpty()) {
        throw ApiException.invalidField("tools[" + i + "].function.name", "missing");
      }
      result.add(
          new ToolSpec(
              name, function.path("description").asText(null), function.get("parameters")));
    }
    return result;
  }

  private static int maxTokens(JsonNode body) {
    String field =
        body.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    JsonNode value = body.get(field);
    if (value == null || value.isNull()) {
      return DEFAULT_MAX_TOKENS;
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt()) {
      throw ApiException.invalidField(field, "expected a whole number of tokens, e.g. 1000");
    }
    if (value.asInt() <= 0) {
      throw ApiException.invalidField(field, value.asInt() + " must be at least 1");
    }
    return value.asInt();
  }

  private static double temperature(JsonNode body) {
    JsonNode value = body.get("temperature");
    if (value == null || value.isNull()) {
      return DEFAULT_TEMPERATURE;
    }
    if (!value.isNumber()) {
      throw ApiException.invalidField("temperature", "expected a number from 0 to 2");
    }
    double temperature = value.asDouble();
    if (temperature < 0 || temperature > 2) {
      throw ApiException.invalidField("temperature", value.asText() + " is outside 0 to 2");
    }
    return temperature;
  }

  private static List<String> stop(JsonNode stop) {
    if (stop == null || stop.isNull()) {
      return List.of();
    }
    if (stop.isTextual()) {
      return List.of(stop.asText());
    }
    if (stop.isArray()) {
      List<String> result = new ArrayList<>();
      stop.forEach(s -> result.add(s.asText()));
      return result;
    }
    throw ApiException.invalidField("stop", "expected a string or a list of strings");
  }
}
