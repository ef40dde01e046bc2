package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The canonical types to and from OpenAI's chat completions and embeddings JSON. */
final class OpenAiTranslation {
  private OpenAiTranslation() {}

  static ObjectNode request(ObjectMapper mapper, ChatRequest request, boolean stream) {
    ObjectNode body = mapper.createObjectNode();
    body.put("model", request.model());
    ArrayNode messages = body.putArray("messages");
    if (request.system() != null) {
      messages.addObject().put("role", "system").put("content", request.system());
    }
    for (ChatMessage message : request.messages()) {
      messages.add(message(mapper, message));
    }
    if (request.maxTokens() > 0) {
      body.put("max_tokens", request.maxTokens());
    }
    body.put("temperature", request.temperature());
    if (!request.stop().isEmpty()) {
      ArrayNode stop = body.putArray("stop");
      request.stop().forEach(stop::add);
    }
    if (!request.tools().isEmpty()) {
      body.set("tools", tools(mapper, request.tools()));
    }
    if (request.toolChoice() != null && !request.toolChoice().isNull()) {
      body.set("tool_choice", request.toolChoice());
    }
    if (stream) {
      body.put("stream", true);
      body.putObject("stream_options").put("include_usage", true);
    }
    return body;
  }

  /** The {@code tools} array in OpenAI's shape, which Ollama shares. */
  static ArrayNode tools(ObjectMapper mapper, List<ToolSpec> specs) {
    ArrayNode tools = mapper.createArrayNode();
    for (ToolSpec spec : specs) {
      ObjectNode function = tools.addObject().put("type", "function").putObject("function");
      function.put("name", spec.name());
      if (spec.description() != null) {
        function.put("description", spec.description());
      }
      if (spec.parameters() != null) {
        function.set("parameters", spec.parameters());
      }
    }
    return tools;
  }

  private static ObjectNode message(ObjectMapper mapper, ChatMessage message) {
    ObjectNode wire = mapper.createObjectNode().put("role", message.role());
    boolean callsTools = !message.toolCalls().isEmpty();
    // OpenAI allows a null content only beside tool_calls; elsewhere it must be a string.
    if (message.content() != null || !callsTools) {
      wire.put("content", message.content() == null ? "" : message.content());
    }
    if (callsTools) {
      ArrayNode calls = wire.putArray("tool_calls");
      for (ToolCall call : message.toolCalls()) {
        ObjectNode wireCall = calls.addObject().put("id", call.id()).put("type", "function");
        wireCall
            .putObject("function")
            .put("name", call.name())
            .put("arguments", call.argumentsJson() == null ? "{}" : call.argumentsJson());
      }
    }
    if (message.toolCallId() != null) {
      wire.put("tool_call_id", message.toolCallId());
    }
    return wire;
  }

  static ChatResult response(JsonNode body, String requestedModel) {
    JsonNode choice = body.path("choices").path(0);
    JsonNode message = choice.path("message");
    List<ToolCall> toolCalls = new ArrayList<>();
    for (JsonNode call : message.path("tool_calls")) {
      JsonNode function = call.path("function");
      toolCalls.add(
          new ToolCall(
              call.path("id").asText(),
              function.path("name").asText(),
              function.path("arguments").asText("{}")));
    }
    return new ChatResult(
        message.path("content").asText(""),
        toolCalls,
        finishReason(choice.path("finish_reason").asText(""), !toolCalls.isEmpty()),
        usage(body.path("usage")),
        body.path("model").asText(requestedModel));
  }

  /** One {@code chat.completion.chunk}: text and tool-call deltas of choice 0, usage, finish. */
  static void chunk(JsonNode chunk, StreamAccumulator accumulator)
      throws StreamAccumulator.ListenerFailed {
    accumulator.model(chunk.path("model").asText(null));
    JsonNode usage = chunk.path("usage");
    if (usage.path("prompt_tokens").isNumber() && usage.path("completion_tokens").isNumber()) {
      accumulator.inputTokens(usage.path("prompt_tokens").asInt());
      accumulator.outputTokens(usage.path("completion_tokens").asInt());
    }
    for (JsonNode choice : chunk.path("choices")) {
      if (choice.path("index").asInt(0) != 0) {
        continue;
      }
      JsonNode delta = choice.path("delta");
      accumulator.text(delta.path("content").asText(null));
      int position = 0;
      for (JsonNode call : delta.path("tool_calls")) {
        JsonNode function = call.path("function");
        accumulator.toolCall(
            call.path("index").asInt(position++),
            call.path("id").asText(null),
            function.path("name").asText(null),
            function.path("arguments").asText(""));
      }
      String finish = choice.path("finish_reason").asText("");
      if (!finish.isEmpty()) {
        accumulator.finishReason(finishReason(finish, accumulator.toolCallCount() > 0));
      }
    }
  }

  static FinishReason finishReason(String wire, boolean calledTools) {
    return switch (wire) {
      case "length" -> FinishReason.LENGTH;
      case "tool_calls", "function_call" -> FinishReason.TOOL_CALLS;
      case "content_filter" -> FinishReason.CONTENT_FILTER;
      case "stop" -> FinishReason.STOP;
      default -> calledTools ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    };
  }

  static Optional<Usage> usage(JsonNode usage) {
    JsonNode in = usage.path("prompt_tokens");
    JsonNode out = usage.path("completion_tokens");
    return in.isNumber() && out.isNumber()
        ? Optional.of(new Usage(in.asInt(), out.asInt()))
        : Optional.empty();
  }

  static ObjectNode embedRequest(ObjectMapper mapper, String model, List<String> inputs) {
    ObjectNode body = mapper.createObjectNode().put("model", model);
    ArrayNode input = body.putArray("input");
    inputs.forEach(input::add);
    return body;
  }

  /** Vectors placed by {@code data[i].index}: the API does not promise to keep input order. */
  static EmbeddingResult embedResponse(JsonNode body, String model, int inputs, String provider)
      throws ProviderException {
    float[][] vectors = new float[inputs][];
    for (JsonNode item : body.path("data")) {
      int index = item.path("index").asInt(-1);
      if (index < 0 || index >= inputs) {
        throw new ProviderException.Unavailable(
            502, provider + " returned an embedding for index " + index + " of " + inputs);
      }
      vectors[index] = Vectors.of(item.path("embedding"));
    }
    List<float[]> ordered = Vectors.complete(vectors, provider);
    JsonNode tokens = body.path("usage").path("prompt_tokens");
    return new EmbeddingResult(
        ordered,
        tokens.isNumber() ? Optional.of(tokens.asInt()) : Optional.empty(),
        body.path("model").asText(model));
  }
}
