package dev.jodo.kernel.testing.fakes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * OpenAI's {@code /v1/chat/completions}, {@code /v1/embeddings} and {@code /v1/models}. Streams are
 * {@code data: {chunk}\n\n} events ending in {@code data: [DONE]}, with a usage chunk (empty {@code
 * choices}) only when the request asked for {@code stream_options.include_usage}.
 */
final class OpenAiFake implements FakeProvider.Protocol {
  private static final long CREATED = 1_700_000_000L;
  private static final Set<String> ROLES =
      Set.of("system", "developer", "user", "assistant", "tool");

  private final FakeProvider fake;
  private final String expectedKey;

  OpenAiFake(FakeProvider fake, String expectedKey) {
    this.fake = fake;
    this.expectedKey = expectedKey;
  }

  @Override
  public void answer(FakeExchange exchange) throws IOException {
    String route = exchange.method() + " " + exchange.path();
    if (expectedKey != null) {
      String auth = exchange.header("authorization");
      if (auth == null) {
        error(exchange, 401, "You didn't provide an API key.");
        return;
      }
      if (!auth.equals("Bearer " + expectedKey)) {
        error(exchange, 401, "Incorrect API key provided.");
        return;
      }
    }
    switch (route) {
      case "POST /v1/chat/completions" -> chat(exchange);
      case "POST /v1/embeddings" -> embeddings(exchange);
      case "GET /v1/models" -> models(exchange);
      default -> error(exchange, 404, "Invalid URL (" + route + ")");
    }
  }

  @Override
  public void error(FakeExchange exchange, int status, String message) throws IOException {
    ObjectNode body = exchange.mapper().createObjectNode();
    ObjectNode error = body.putObject("error");
    error.put("message", message);
    error.put(
        "type",
        switch (status) {
          case 429 -> "requests";
          case 500, 502, 503 -> "server_error";
          default -> "invalid_request_error";
        });
    error.putNull("param");
    if (status == 401) {
      error.put("code", "invalid_api_key");
    } else if (status == 429) {
      error.put("code", "rate_limit_exceeded");
    } else {
      error.putNull("code");
    }
    exchange.json(status, body);
  }

  private String invalid(JsonNode body) {
    if (!body.path("model").isTextual()) {
      return "you must provide a model parameter";
    }
    JsonNode messages = body.path("messages");
    if (!messages.isArray() || messages.isEmpty()) {
      return "[] is too short - 'messages'";
    }
    Set<String> openCalls = new HashSet<>();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode message = messages.get(i);
      String role = message.path("role").asText();
      if (!ROLES.contains(role)) {
        return "Invalid value: '"
            + role
            + "'. Supported values are: 'system', 'assistant',"
            + " 'user', 'tool', and 'developer'.";
      }
      if (role.equals("tool")) {
        if (!openCalls.remove(message.path("tool_call_id").asText())) {
          return "Invalid parameter: messages with role 'tool' must be a response to a preceeding"
              + " message with 'tool_calls'.";
        }
        continue;
      }
      for (JsonNode call : message.path("tool_calls")) {
        if (!call.path("id").isTextual()
            || !call.path("type").asText().equals("function")
            || !call.path("function").path("name").isTextual()
            || !call.path("function").path("arguments").isTextual()) {
          return "Invalid 'messages["
              + i
              + "].tool_calls': each needs id, type 'function',"
              + " function.name and function.arguments (a string).";
        }
        openCalls.add(call.path("id").asText());
      }
      if (!message.path("tool_calls").isArray()
          && !message.path("content").isTextual()
          && !message.path("content").isArray()) {
        return "Invalid 'messages[" + i + "].content': expected a string or an array.";
      }
    }
    if (!openCalls.isEmpty()) {
      return "An assistant message with 'tool_calls' must be followed by tool messages responding"
          + " to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
          + String.join(", ", openCalls);
    }
    for (JsonNode tool : body.path("tools")) {
      if (!tool.path("type").asText().equals("function")
          || !tool.path("function").path("name").isTextual()) {
        return "Missing required parameter: 'tools[0].function.name'.";
      }
    }
    if (body.has("stream_options") && !body.path("stream").asBoolean(false)) {
      return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
    }
    return null;
  }

  private void chat(FakeExchange exchange) throws IOException {
    JsonNode body = exchange.body();
    String problem = invalid(body);
    if (problem != null) {
      error(exchange, 400, problem);
      return;
    }
    Script script = exchange.script();
    String model = body.path("model").asText();
    int input = script.inputTokens(promptWords(body.path("messages")));
    if (body.path("stream").asBoolean(false)) {
      stream(exchange, model, input, body.path("stream_options").path("include_usage").asBoolean());
      return;
    }
    ObjectNode response = envelope(exchange, "chat.completion", model);
    ObjectNode choice = response.putArray("choices").addObject().put("index", 0);
    ObjectNode message = choice.putObject("message").put("role", "assistant");
    if (script.toolCall() != null) {
      message.putNull("content");
      ObjectNode call = message.putArray("tool_calls").addObject();
      call.put("id", script.toolCall().id()).put("type", "function");
      call.putObject("function")
          .put("name", script.toolCall().name())
          .put("arguments", script.toolCall().argumentsJson());
    } else {
      message.put("content", script.reply());
    }
    message.putNull("refusal");
    choice.putNull("logprobs");
    choice.put("finish_reason", script.toolCall() != null ? "tool_calls" : "stop");
    if (script.reportUsage()) {
      usage(response, input, script.outputTokens(false));
    }
    exchange.json(200, response);
  }

  private void stream(FakeExchange exchange, String model, int input, boolean includeUsage)
      throws IOException {
    Script script = exchange.script();
    FakeExchange.Stream stream = exchange.stream("text/event-stream; charset=utf-8");
    ObjectNode first = delta(exchange, model, includeUsage);
    ObjectNode firstDelta = (ObjectNode) first.path("choices").path(0).path("delta");
    firstDelta.put("role", "assistant");
    if (script.toolCall() != null) {
      firstDelta.putNull("content");
      ObjectNode call = firstDelta.putArray("tool_calls").addObject().put("index", 0);
      call.put("id", script.toolCall().id()).put("type", "function");
      call.putObject("function").put("name", script.toolCall().name()).put("arguments", "");
      stream.json(first, "data: ", "\n\n");
      for (String piece : script.argumentPieces()) {
        ObjectNode chunk = delta(exchange, model, includeUsage);
        ((ObjectNode) chunk.path("choices").path(0).path("delta"))
            .putArray("tool_calls")
            .addObject()
            .put("index", 0)
            .putObject("function")
            .put("arguments", piece);
        stream.json(chunk, "data: ", "\n\n");
      }
    } else {
      firstDelta.put("content", "");
      stream.json(first, "data: ", "\n\n");
      for (String piece : script.pieces()) {
        ObjectNode chunk = delta(exchange, model, includeUsage);
        ((ObjectNode) chunk.path("choices").path(0).path("delta")).put("content", piece);
        stream.json(chunk, "data: ", "\n\n");
      }
    }
    ObjectNode last = delta(exchange, model, includeUsage);
    ((ObjectNode) last.path("choices").path(0))
        .put("finish_reason", script.toolCall() != null ? "tool_calls" : "stop");
    stream.json(last, "data: ", "\n\n");
    if (includeUsage && script.reportUsage()) {
      ObjectNode usageChunk = envelope(exchange, "chat.completion.chunk", model);
      usageChunk.putArray("choices");
      usage(usageChunk, input, script.outputTokens(true));
      stream.json(usageChunk, "data: ", "\n\n");
    }
    stream.chunk("data: [DONE]\n\n");
  }

  private ObjectNode delta(FakeExchange exchange, String model, boolean includeUsage) {
    ObjectNode chunk = envelope(exchange, "chat.completion.chunk", model);
    ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
    choice.putObject("delta");
    choice.putNull("logprobs");
    choice.putNull("finish_reason");
    if (includeUsage) {
      // OpenAI sends "usage": null on every chunk but the last when usage is requested.
      chunk.putNull("usage");
    }
    return chunk;
  }

  private ObjectNode envelope(FakeExchange exchange, String object, String model) {
    return exchange
        .mapper()
        .createObjectNode()
        .put("id", "chatcmpl-fake" + fake.requests().size())
        .put("object", object)
        .put("created", CREATED)
        .put("model", model)
        .put("system_fingerprint", "fp_fake");
  }

  private static void usage(ObjectNode response, int input, int output) {
    response
        .putObject("usage")
        .put("prompt_tokens", input)
        .put("completion_tokens", output)
        .put("total_tokens", input + output);
  }

  static int promptWords(JsonNode messages) {
    int words = 0;
    for (JsonNode message : messages) {
      JsonNode content = message.path("content");
      if (content.isTextual()) {
        words += Script.words(content.asText());
      }
      for (JsonNode part : content.isArray() ? content : List.<JsonNode>of()) {
        words += Script.words(part.path("text").asText(""));
      }
    }
    return words;
  }

  private void embeddings(FakeExchange exchange) throws IOException {
    JsonNode body = exchange.body();
    List<String> inputs = FakeInputs.strings(body.path("input"));
    if (!body.path("model").isTextual()) {
      error(exchange, 400, "you must provide a model parameter");
      return;
    }
    if (inputs == null || inputs.isEmpty()) {
      error(exchange, 400, "'input' : input must be a string or an array of strings");
      return;
    }
    Script script = exchange.script();
    ObjectNode response = exchange.mapper().createObjectNode().put("object", "list");
    ArrayNode data = response.putArray("data");
    // Newest first: the API promises each item's index, not the order of the array.
    for (int i = inputs.size() - 1; i >= 0; i--) {
      ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
      ArrayNode vector = item.putArray("embedding");
      for (float value : script.vector(inputs.get(i))) {
        vector.add(value);
      }
    }
    response.put("model", body.path("model").asText());
    if (script.reportUsage()) {
      int words = inputs.stream().mapToInt(Script::words).sum();
      int tokens = script.fixedInputTokens() != null ? script.fixedInputTokens() : words;
      response.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
    }
    exchange.json(200, response);
  }

  private void models(FakeExchange exchange) throws IOException {
    ObjectNode response = exchange.mapper().createObjectNode().put("object", "list");
    ArrayNode data = response.putArray("data");
    Set<String> models = fake.modelsSeen();
    models.add("gpt-4o-mini");
    for (String model : models) {
      data.addObject()
          .put("id", model)
          .put("object", "model")
          .put("created", CREATED)
          .put("owned_by", "fake");
    }
    exchange.json(200, response);
  }
}
