package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The canonical (OpenAI-shaped) conversation to and from Anthropic's Messages API. Anthropic keeps
 * the system prompt apart, carries tool calls and results as content blocks, and requires user and
 * assistant turns to alternate, so consecutive same-role messages (several tool results in a row)
 * are merged into one turn.
 */
final class AnthropicTranslation {
  private final ObjectMapper mapper;
  private final String provider;

  AnthropicTranslation(ObjectMapper mapper, String provider) {
    this.mapper = mapper;
    this.provider = provider;
  }

  ObjectNode request(ChatRequest request, boolean stream) throws ProviderException.Rejected {
    ObjectNode body = mapper.createObjectNode();
    body.put("model", request.model());
    body.put("max_tokens", request.maxTokens());
    List<String> system = new ArrayList<>();
    if (request.system() != null && !request.system().isEmpty()) {
      system.add(request.system());
    }
    ArrayNode messages = mapper.createArrayNode();
    for (ChatMessage message : request.messages()) {
      if (message.role().equals("system")) {
        // A system message inside the conversation joins the top-level prompt.
        if (message.content() != null && !message.content().isEmpty()) {
          system.add(message.content());
        }
        continue;
      }
      String role = message.role().equals("assistant") ? "assistant" : "user";
      ArrayNode blocks = blocks(message);
      if (blocks.isEmpty()) {
        continue;
      }
      JsonNode last = messages.isEmpty() ? null : messages.get(messages.size() - 1);
      if (last != null && last.path("role").asText().equals(role)) {
        ((ArrayNode) last.get("content")).addAll(blocks);
      } else {
        messages.addObject().put("role", role).set("content", blocks);
      }
    }
    if (!system.isEmpty()) {
      body.put("system", String.join("\n\n", system));
    }
    body.set("messages", messages);
    // Anthropic accepts 0 to 1 where OpenAI accepts 0 to 2: clamp rather than fail the call.
    body.put("temperature", Math.min(1.0, request.temperature()));
    if (!request.stop().isEmpty()) {
      ArrayNode stop = body.putArray("stop_sequences");
      request.stop().forEach(stop::add);
    }
    if (!request.tools().isEmpty()) {
      ArrayNode tools = body.putArray("tools");
      for (ToolSpec spec : request.tools()) {
        ObjectNode tool = tools.addObject().put("name", spec.name());
        if (spec.description() != null) {
          tool.put("description", spec.description());
        }
        JsonNode schema = spec.parameters();
        tool.set(
            "input_schema",
            schema == null || schema.isNull()
                ? mapper.createObjectNode().put("type", "object")
                : schema);
      }
    }
    ObjectNode toolChoice = toolChoice(request.toolChoice());
    if (toolChoice != null) {
      body.set("tool_choice", toolChoice);
    }
    if (stream) {
      body.put("stream", true);
    }
    return body;
  }

  private ArrayNode blocks(ChatMessage message) throws ProviderException.Rejected {
    ArrayNode blocks = mapper.createArrayNode();
    if (message.role().equals("tool")) {
      blocks
          .addObject()
          .put("type", "tool_result")
          .put("tool_use_id", message.toolCallId())
          .put("content", message.content() == null ? "" : message.content());
      return blocks;
    }
    // Anthropic refuses empty text blocks.
    if (message.content() != null && !message.content().isEmpty()) {
      blocks.addObject().put("type", "text").put("text", message.content());
    }
    for (ToolCall call : message.toolCalls()) {
      blocks
          .addObject()
          .put("type", "tool_use")
          .put("id", call.id())
          .put("name", call.name())
          .set("input", ToolArguments.toObject(mapper, provider, call));
    }
    return blocks;
  }

  /** OpenAI's {@code tool_choice} in Anthropic's words. */
  ObjectNode toolChoice(JsonNode choice) throws ProviderException.Rejected {
    if (choice == null || choice.isNull() || choice.isMissingNode()) {
      return null;
    }
    if (choice.isTextual()) {
      String type =
          switch (choice.asText()) {
            case "auto" -> "auto";
            case "required" -> "any";
            case "none" -> "none";
            default -> null;
          };
      if (type != null) {
        return mapper.createObjectNode().put("type", type);
      }
    }
    JsonNode name = choice.path("function").path("name");
    if (choice.path("type").asText().equals("function") && name.isTextual()) {
      return mapper.createObjectNode().put("type", "tool").put("name", name.asText());
    }
    throw new ProviderException.Rejected(
        400, provider + " cannot express tool_choice " + choice + " (use auto, required, none)");
  }

  ChatResult response(JsonNode body, String requestedModel) {
    StringBuilder text = new StringBuilder();
    List<ToolCall> toolCalls = new ArrayList<>();
    for (JsonNode block : body.path("content")) {
      switch (block.path("type").asText()) {
        case "text" -> text.append(block.path("text").asText());
        case "tool_use" ->
            toolCalls.add(
                new ToolCall(
                    block.path("id").asText(),
                    block.path("name").asText(),
                    ToolArguments.toText(mapper, block.path("input"))));
        default -> {
          // thinking and server-tool blocks are not part of the canonical answer
        }
      }
    }
    JsonNode usage = body.path("usage");
    Optional<Usage> reported =
        usage.path("input_tokens").isNumber() && usage.path("output_tokens").isNumber()
            ? Optional.of(
                new Usage(usage.path("input_tokens").asInt(), usage.path("output_tokens").asInt()))
            : Optional.empty();
    return new ChatResult(
        text.toString(),
        toolCalls,
        finishReason(body.path("stop_reason").asText(""), !toolCalls.isEmpty()),
        reported,
        body.path("model").asText(requestedModel));
  }

  static FinishReason finishReason(String stopReason, boolean calledTools) {
    return switch (stopReason) {
      case "max_tokens", "model_context_window_exceeded" -> FinishReason.LENGTH;
      case "tool_use" -> FinishReason.TOOL_CALLS;
      case "refusal" -> FinishReason.CONTENT_FILTER;
      default -> calledTools ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    };
  }
}
