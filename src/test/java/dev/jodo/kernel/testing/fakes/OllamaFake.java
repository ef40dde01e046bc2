package dev.jodo.kernel.testing.fakes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Set;

/**
 * Ollama's {@code /api/chat}, {@code /api/embed} and {@code /api/tags}. Like the real server it
 * streams unless {@code "stream": false}, as NDJSON lines ending in one with {@code "done": true};
 * tool calls carry no ids and their arguments are JSON objects (a string is refused, as Go's
 * decoder refuses it).
 */
final class OllamaFake implements FakeProvider.Protocol {
  private static final String CREATED_AT = "2025-01-01T00:00:00.000000Z";
  private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  private final FakeProvider fake;

  OllamaFake(FakeProvider fake) {
    this.fake = fake;
  }

  @Override
  public void answer(FakeExchange exchange) throws IOException {
    switch (exchange.method() + " " + exchange.path()) {
      case "POST /api/chat" -> chat(exchange);
      case "POST /api/embed" -> embed(exchange);
      case "GET /api/tags" -> tags(exchange);
      default -> exchange.send(404, "text/plain", "404 page not found");
    }
  }

  @Override
  public void error(FakeExchange exchange, int status, String message) throws IOException {
    exchange.json(status, exchange.mapper().createObjectNode().put("error", message));
  }

  private static String invalid(JsonNode body) {
    if (!body.path("model").isTextual() || body.path("model").asText().isEmpty()) {
      return "model is required";
    }
    for (JsonNode message : body.path("messages")) {
      String role = message.path("role").asText();
      if (!ROLES.contains(role)) {
        return "invalid role: " + role;
      }
      for (JsonNode call : message.path("tool_calls")) {
        if (!call.path("function").path("arguments").isObject()) {
          return "json: cannot unmarshal string into Go struct field"
              + " ToolCallFunction.messages.tool_calls.function.arguments of type"
              + " api.ToolCallFunctionArguments";
        }
      }
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
    int promptWords = 0;
    for (JsonNode message : body.path("messages")) {
      promptWords += Script.words(message.path("content").asText(""));
    }
    int input = script.inputTokens(promptWords);
    if (!body.path("stream").asBoolean(true)) {
      ObjectNode response = line(exchange, script.toolCall() != null ? "" : script.reply());
      if (script.toolCall() != null) {
        addToolCall(exchange, response);
      }
      done(response, script, input, false);
      exchange.json(200, response);
      return;
    }
    FakeExchange.Stream stream = exchange.stream("application/x-ndjson");
    if (script.toolCall() != null) {
      ObjectNode call = line(exchange, "");
      addToolCall(exchange, call);
      stream.json(call, "", "\n");
    } else {
      for (String piece : script.pieces()) {
        stream.json(line(exchange, piece), "", "\n");
      }
    }
    ObjectNode last = line(exchange, "");
    done(last, script, input, true);
    stream.json(last, "", "\n");
  }

  private static ObjectNode line(FakeExchange exchange, String content) {
    ObjectNode line = exchange.mapper().createObjectNode();
    line.put("model", exchange.body().path("model").asText()).put("created_at", CREATED_AT);
    line.putObject("message").put("role", "assistant").put("content", content);
    line.put("done", false);
    return line;
  }

  private static void addToolCall(FakeExchange exchange, ObjectNode line) throws IOException {
    Script.ScriptedToolCall call = exchange.script().toolCall();
    ObjectNode function =
        ((ObjectNode) line.path("message"))
            .putArray("tool_calls")
            .addObject()
            .putObject("function");
    function.put("name", call.name());
    function.set("arguments", exchange.mapper().readTree(call.argumentsJson()));
  }

  private static void done(ObjectNode line, Script script, int input, boolean streamed) {
    line.put("done", true).put("done_reason", "stop");
    line.put("total_duration", 1_000_000L).put("load_duration", 100_000L);
    if (script.reportUsage()) {
      line.put("prompt_eval_count", input).put("prompt_eval_duration", 200_000L);
      line.put("eval_count", script.outputTokens(streamed)).put("eval_duration", 700_000L);
    }
  }

  private void embed(FakeExchange exchange) throws IOException {
    JsonNode body = exchange.body();
    if (!body.path("model").isTextual() || body.path("model").asText().isEmpty()) {
      error(exchange, 400, "model is required");
      return;
    }
    List<String> inputs = FakeInputs.strings(body.path("input"));
    if (inputs == null) {
      error(exchange, 400, "invalid input type");
      return;
    }
    Script script = exchange.script();
    ObjectNode response = exchange.mapper().createObjectNode();
    response.put("model", body.path("model").asText());
    ArrayNode embeddings = response.putArray("embeddings");
    for (String input : inputs) {
      ArrayNode vector = embeddings.addArray();
      for (float value : script.vector(input)) {
        vector.add(value);
      }
    }
    response.put("total_duration", 1_000_000L).put("load_duration", 100_000L);
    if (script.reportUsage()) {
      int words = inputs.stream().mapToInt(Script::words).sum();
      response.put(
          "prompt_eval_count",
          script.fixedInputTokens() != null ? script.fixedInputTokens() : words);
    }
    exchange.json(200, response);
  }

  private void tags(FakeExchange exchange) throws IOException {
    ObjectNode response = exchange.mapper().createObjectNode();
    ArrayNode models = response.putArray("models");
    Set<String> names = fake.modelsSeen();
    names.add("llama3");
    for (String name : names) {
      ObjectNode model = models.addObject();
      model.put("name", name).put("model", name).put("modified_at", CREATED_AT);
      model.put("size", 4_661_224_676L).put("digest", Integer.toHexString(name.hashCode()));
      model
          .putObject("details")
          .put("format", "gguf")
          .put("family", "llama")
          .put("parameter_size", "8.0B")
          .put("quantization_level", "Q4_0");
    }
    exchange.json(200, response);
  }
}
