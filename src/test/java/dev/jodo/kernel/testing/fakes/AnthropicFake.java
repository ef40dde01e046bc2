package dev.jodo.kernel.testing.fakes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Anthropic's {@code POST /v1/messages}, including its checks: {@code x-api-key} (401 when missing
 * or wrong, as the real API answers), {@code anthropic-version}, {@code max_tokens}, strictly
 * alternating roles starting with user, non-empty text blocks, and every {@code tool_use} answered
 * by a {@code tool_result} in the very next message. Streams are named SSE events.
 */
final class AnthropicFake implements FakeProvider.Protocol {
  private final String expectedKey;

  AnthropicFake(String expectedKey) {
    this.expectedKey = expectedKey;
  }

  @Override
  public void answer(FakeExchange exchange) throws IOException {
    String key = exchange.header("x-api-key");
    if (key == null || key.isEmpty()) {
      error(exchange, 401, "x-api-key header is required");
      return;
    }
    if (expectedKey != null && !expectedKey.equals(key)) {
      error(exchange, 401, "invalid x-api-key");
      return;
    }
    String version = exchange.header("anthropic-version");
    if (version == null) {
      error(exchange, 400, "anthropic-version: header is required");
      return;
    }
    if (!version.equals("2023-06-01") && !version.equals("2023-01-01")) {
      error(exchange, 400, "anthropic-version: invalid version " + version);
      return;
    }
    if (!(exchange.method() + " " + exchange.path()).equals("POST /v1/messages")) {
      error(exchange, 404, "Not Found");
      return;
    }
    String problem = invalid(exchange.body());
    if (problem != null) {
      error(exchange, 400, problem);
    } else if (exchange.body().path("stream").asBoolean(false)) {
      stream(exchange);
    } else {
      message(exchange);
    }
  }

  @Override
  public void error(FakeExchange exchange, int status, String message) throws IOException {
    ObjectNode body = exchange.mapper().createObjectNode().put("type", "error");
    body.putObject("error").put("type", errorType(status)).put("message", message);
    exchange.json(status, body);
  }

  static String errorType(int status) {
    return switch (status) {
      case 400 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 413 -> "request_too_large";
      case 429 -> "rate_limit_error";
      case 529 -> "overloaded_error";
      default -> "api_error";
    };
  }

  private static String invalid(JsonNode body) {
    if (!body.path("model").isTextual()) {
      return "model: Field required";
    }
    if (!body.has("max_tokens")) {
      return "max_tokens: Field required";
    }
    if (!body.path("max_tokens").isInt() || body.path("max_tokens").asInt() < 1) {
      return "max_tokens: Input should be greater than or equal to 1";
    }
    double temperature = body.path("temperature").asDouble(1);
    if (temperature < 0 || temperature > 1) {
      return "temperature: range: 0..1";
    }
    JsonNode messages = body.path("messages");
    if (!messages.isArray() || messages.isEmpty()) {
      return "messages: at least one message is required";
    }
    Set<String> unanswered = new LinkedHashSet<>();
    String previous = null;
    for (int i = 0; i < messages.size(); i++) {
      JsonNode message = messages.get(i);
      String role = message.path("role").asText();
      if (!role.equals("user") && !role.equals("assistant")) {
        return "messages." + i + ".role: Input should be 'user' or 'assistant'";
      }
      if (previous == null && !role.equals("user")) {
        return "messages: first message must use the \"user\" role";
      }
      if (role.equals(previous)) {
        return "messages: roles must alternate between \"user\" and \"assistant\", but found"
            + " multiple \""
            + role
            + "\" roles in a row";
      }
      previous = role;
      String problem = content(i, message.path("content"), unanswered);
      if (problem != null) {
        return problem;
      }
    }
    for (JsonNode tool : body.path("tools")) {
      if (!tool.path("name").isTextual()) {
        return "tools.0.name: Field required";
      }
      if (!tool.path("input_schema").isObject()) {
        return "tools.0.input_schema: Field required";
      }
    }
    JsonNode choice = body.path("tool_choice");
    if (!choice.isMissingNode()
        && !Set.of("auto", "any", "tool", "none").contains(choice.path("type").asText())) {
      return "tool_choice: Input tag '" + choice.path("type").asText() + "' does not match";
    }
    return null;
  }

  /**
   * Checks one message's content; {@code unanswered} carries the tool_use ids of the previous
   * assistant message, which this message must answer (and no others).
   */
  private static String content(int index, JsonNode content, Set<String> unanswered) {
    Set<String> asked = new LinkedHashSet<>();
    if (content.isTextual()) {
      if (content.asText().isEmpty()) {
        return "messages." + index + ": text content blocks must be non-empty";
      }
    } else if (!content.isArray() || content.isEmpty()) {
      return "messages." + index + ": all messages must have non-empty content";
    } else {
      for (int b = 0; b < content.size(); b++) {
        JsonNode block = content.get(b);
        String where = "messages." + index + ".content." + b;
        switch (block.path("type").asText()) {
          case "text" -> {
            if (block.path("text").asText("").isEmpty()) {
              return "messages: text content blocks must be non-empty";
            }
          }
          case "tool_use" -> {
            if (!block.path("input").isObject()) {
              return where + ".tool_use.input: Input should be a valid dictionary";
            }
            asked.add(block.path("id").asText());
          }
          case "tool_result" -> {
            String id = block.path("tool_use_id").asText();
            if (!unanswered.remove(id)) {
              return where
                  + ": unexpected `tool_use_id` found in `tool_result` blocks: "
                  + id
                  + ". Each `tool_result` block must have a corresponding `tool_use` block in the"
                  + " previous message.";
            }
          }
          default -> {
            return where + ".type: Input tag '" + block.path("type").asText() + "' does not match";
          }
        }
      }
    }
    if (!unanswered.isEmpty()) {
      return "messages."
          + (index - 1)
          + ": `tool_use` ids were found without `tool_result` blocks"
          + " immediately after: "
          + String.join(", ", unanswered)
          + ". Each `tool_use` block"
          + " must have a corresponding `tool_result` block in the next message.";
    }
    unanswered.addAll(asked);
    return null;
  }

  static int promptWords(JsonNode body) {
    int words = texts(body.path("system"));
    for (JsonNode message : body.path("messages")) {
      words += texts(message.path("content"));
    }
    return words;
  }

  private static int texts(JsonNode content) {
    if (content.isTextual()) {
      return Script.words(content.asText());
    }
    int words = 0;
    for (JsonNode block : content) {
      words += Script.words(block.path("text").asText(""));
      words += texts(block.path("content"));
    }
    return words;
  }

  private void message(FakeExchange exchange) throws IOException {
    Script script = exchange.script();
    ObjectNode response = start(exchange);
    if (script.toolCall() != null) {
      response.putArray("content").add(toolUse(exchange, true));
    } else {
      response.putArray("content").addObject().put("type", "text").put("text", script.reply());
    }
    response.put("stop_reason", script.toolCall() != null ? "tool_use" : "end_turn");
    response.putNull("stop_sequence");
    if (script.reportUsage()) {
      response
          .putObject("usage")
          .put("input_tokens", script.inputTokens(promptWords(exchange.body())))
          .put("output_tokens", script.outputTokens(false));
    }
    exchange.json(200, response);
  }

  private void stream(FakeExchange exchange) throws IOException {
    Script script = exchange.script();
    FakeExchange.Stream stream = exchange.stream("text/event-stream; charset=utf-8");
    ObjectNode message = start(exchange);
    message.putArray("content");
    message.putNull("stop_reason");
    message.putNull("stop_sequence");
    if (script.reportUsage()) {
      message
          .putObject("usage")
          .put("input_tokens", script.inputTokens(promptWords(exchange.body())))
          .put("output_tokens", 1);
    }
    ObjectNode event = event(exchange, "message_start");
    event.set("message", message);
    send(stream, event);
    send(stream, event(exchange, "ping"));
    ObjectNode blockStart = event(exchange, "content_block_start").put("index", 0);
    if (script.toolCall() != null) {
      blockStart.set("content_block", toolUse(exchange, false));
      send(stream, blockStart);
      for (String piece : script.argumentPieces()) {
        ObjectNode delta = event(exchange, "content_block_delta").put("index", 0);
        delta.putObject("delta").put("type", "input_json_delta").put("partial_json", piece);
        send(stream, delta);
      }
    } else {
      blockStart.putObject("content_block").put("type", "text").put("text", "");
      send(stream, blockStart);
      for (String piece : script.pieces()) {
        ObjectNode delta = event(exchange, "content_block_delta").put("index", 0);
        delta.putObject("delta").put("type", "text_delta").put("text", piece);
        send(stream, delta);
      }
    }
    send(stream, event(exchange, "content_block_stop").put("index", 0));
    ObjectNode messageDelta = event(exchange, "message_delta");
    messageDelta
        .putObject("delta")
        .put("stop_reason", script.toolCall() != null ? "tool_use" : "end_turn")
        .putNull("stop_sequence");
    if (script.reportUsage()) {
      messageDelta.putObject("usage").put("output_tokens", script.outputTokens(true));
    }
    send(stream, messageDelta);
    send(stream, event(exchange, "message_stop"));
  }

  private static ObjectNode start(FakeExchange exchange) {
    return exchange
        .mapper()
        .createObjectNode()
        .put("id", "msg_fake01")
        .put("type", "message")
        .put("role", "assistant")
        .put("model", exchange.body().path("model").asText());
  }

  private static ObjectNode toolUse(FakeExchange exchange, boolean withInput) throws IOException {
    Script.ScriptedToolCall call = exchange.script().toolCall();
    ObjectNode block = exchange.mapper().createObjectNode();
    block.put("type", "tool_use").put("id", call.id()).put("name", call.name());
    block.set(
        "input",
        withInput
            ? exchange.mapper().readTree(call.argumentsJson())
            : exchange.mapper().createObjectNode());
    return block;
  }

  private static ObjectNode event(FakeExchange exchange, String type) {
    return exchange.mapper().createObjectNode().put("type", type);
  }

  private static void send(FakeExchange.Stream stream, ObjectNode event) throws IOException {
    stream.json(event, "event: " + event.path("type").asText() + "\ndata: ", "\n\n");
  }
}
