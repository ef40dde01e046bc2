package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The canonical conversation to and from Ollama's {@code /api/chat}. Ollama's tool calls carry no
 * ids (we number them {@code call_<n>} within an answer) and their arguments are JSON objects, not
 * JSON text; a tool result is matched to its call by {@code tool_name}, not by id.
 */
final class OllamaTranslation {
  private final ObjectMapper mapper;
  private final String provider;

  OllamaTranslation(ObjectMapper mapper, String provider) {
    this.mapper = mapper;
    this.provider = provider;
  }

  ObjectNode request(ChatRequest request, boolean stream) throws ProviderException.Rejected {
    ObjectNode body = mapper.createObjectNode();
    body.put("model", request.model());
    ArrayNode messages = body.putArray("messages");
    if (request.system() != null) {
      messages.addObject().put("role", "system").put("content", request.system());
    }
    List<ChatMessage> conversation = request.messages();
    for (int i = 0; i < conversation.size(); i++) {
      messages.add(message(conversation, i));
    }
    // Ollama streams unless told otherwise.
    body.put("stream", stream);
    ObjectNode options = body.putObject("options");
    options.put("temperature", request.temperature());
    if (request.maxTokens() > 0) {
      options.put("num_predict", request.maxTokens());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode stop = options.putArray("stop");
      request.stop().forEach(stop::add);
    }
    // Ollama cannot force a tool; it can only be offered none.
    boolean noTools =
        request.toolChoice() != null && request.toolChoice().asText("").equals("none");
    if (!request.tools().isEmpty() && !noTools) {
      body.set("tools", OpenAiTranslation.tools(mapper, request.tools()));
    }
    return body;
  }

  private ObjectNode message(List<ChatMessage> conversation, int position)
      throws ProviderException.Rejected {
    ChatMessage message = conversation.get(position);
    ObjectNode wire = mapper.createObjectNode().put("role", message.role());
    wire.put("content", message.content() == null ? "" : message.content());
    if (!message.toolCalls().isEmpty()) {
      ArrayNode calls = wire.putArray("tool_calls");
      for (ToolCall call : message.toolCalls()) {
        calls
            .addObject()
            .putObject("function")
            .put("name", call.name())
            .set("arguments", ToolArguments.toObject(mapper, provider, call));
      }
    }
    if (message.role().equals("tool")) {
      toolName(conversation, position, message.toolCallId())
          .ifPresent(name -> wire.put("tool_name", name));
    }
    return wire;
  }

  /** The name of the call a tool result answers, from the nearest assistant turn before it. */
  private static Optional<String> toolName(
      List<ChatMessage> conversation, int position, String callId) {
    for (int i = position - 1; i >= 0; i--) {
      for (ToolCall call : conversation.get(i).toolCalls()) {
        if (call.id() != null && call.id().equals(callId)) {
          return Optional.ofNullable(call.name());
        }
      }
    }
    return Optional.empty();
  }

  ChatResult response(JsonNode body, String requestedModel) {
    JsonNode message = body.path("message");
    List<ToolCall> toolCalls = new ArrayList<>();
    for (JsonNode call : message.path("tool_calls")) {
      toolCalls.add(toolCall(call, toolCalls.size()));
    }
    return new ChatResult(
        message.path("content").asText(""),
        toolCalls,
        finishReason(body.path("done_reason").asText(""), !toolCalls.isEmpty()),
        usage(body),
        body.path("model").asText(requestedModel));
  }

  /** One NDJSON line of a streamed answer; returns true on the last ({@code done: true}). */
  boolean line(JsonNode line, StreamAccumulator accumulator)
      throws StreamAccumulator.ListenerFailed {
    accumulator.model(line.path("model").asText(null));
    JsonNode message = line.path("message");
    accumulator.text(message.path("content").asText(""));
    for (JsonNode wire : message.path("tool_calls")) {
      int index = accumulator.toolCallCount();
      ToolCall call = toolCall(wire, index);
      // Ollama sends each call whole, so its one delta carries all the arguments.
      accumulator.toolCall(index, call.id(), call.name(), call.argumentsJson());
    }
    if (!line.path("done").asBoolean(false)) {
      return false;
    }
    usage(line)
        .ifPresent(
            usage -> {
              accumulator.inputTokens(usage.inputTokens());
              accumulator.outputTokens(usage.outputTokens());
            });
    accumulator.finishReason(
        finishReason(line.path("done_reason").asText(""), accumulator.toolCallCount() > 0));
    return true;
  }

  private ToolCall toolCall(JsonNode wire, int index) {
    JsonNode function = wire.path("function");
    String id = wire.path("id").asText("");
    return new ToolCall(
        id.isEmpty() ? "call_" + index : id,
        function.path("name").asText(),
        ToolArguments.toText(mapper, function.path("arguments")));
  }

  static FinishReason finishReason(String doneReason, boolean calledTools) {
    if (calledTools) {
      return FinishReason.TOOL_CALLS;
    }
    return doneReason.equals("length") ? FinishReason.LENGTH : FinishReason.STOP;
  }

  private static Optional<Usage> usage(JsonNode body) {
    JsonNode in = body.path("prompt_eval_count");
    JsonNode out = body.path("eval_count");
    return in.isNumber() && out.isNumber()
        ? Optional.of(new Usage(in.asInt(), out.asInt()))
        : Optional.empty();
  }

  ObjectNode embedRequest(String model, List<String> inputs) {
    ObjectNode body = mapper.createObjectNode().put("model", model);
    ArrayNode input = body.putArray("input");
    inputs.forEach(input::add);
    return body;
  }

  EmbeddingResult embedResponse(JsonNode body, String model, int inputs) throws ProviderException {
    JsonNode embeddings = body.path("embeddings");
    if (embeddings.size() != inputs) {
      throw new ProviderException.Unavailable(
          502,
          provider + " returned " + embeddings.size() + " embeddings for " + inputs + " inputs");
    }
    float[][] vectors = new float[inputs][];
    for (int i = 0; i < inputs; i++) {
      vectors[i] = Vectors.of(embeddings.get(i));
    }
    JsonNode tokens = body.path("prompt_eval_count");
    return new EmbeddingResult(
        Vectors.complete(vectors, provider),
        tokens.isNumber() ? Optional.of(tokens.asInt()) : Optional.empty(),
        body.path("model").asText(model));
  }
}
