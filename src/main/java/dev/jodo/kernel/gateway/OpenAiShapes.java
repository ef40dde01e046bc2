package dev.jodo.kernel.gateway;

import dev.jodo.kernel.gateway.provider.ToolCall;
import dev.jodo.kernel.gateway.provider.Usage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** OpenAI's response objects, built as maps in their field order. */
final class OpenAiShapes {
  private OpenAiShapes() {}

  static List<Map<String, Object>> toolCalls(List<ToolCall> calls) {
    List<Map<String, Object>> result = new ArrayList<>();
    for (ToolCall call : calls) {
      Map<String, Object> function = new LinkedHashMap<>();
      function.put("name", call.name());
      function.put("arguments", call.argumentsJson());
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("id", call.id());
      entry.put("type", "function");
      entry.put("function", function);
      result.add(entry);
    }
    return result;
  }

  static Map<String, Object> usage(Usage usage) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("prompt_tokens", usage.inputTokens());
    result.put("completion_tokens", usage.outputTokens());
    result.put("total_tokens", usage.total());
    return result;
  }

  static Map<String, Object> completion(String id, long created, Completion done) {
    Map<String, Object> message = new LinkedHashMap<>();
    message.put("role", "assistant");
    message.put("content", done.result().content());
    if (!done.result().toolCalls().isEmpty()) {
      message.put("tool_calls", toolCalls(done.result().toolCalls()));
    }
    Map<String, Object> choice = new LinkedHashMap<>();
    choice.put("index", 0);
    choice.put("message", message);
    choice.put("finish_reason", done.result().finishReason().wire());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", id);
    body.put("object", "chat.completion");
    body.put("created", created);
    body.put("model", done.model());
    body.put("choices", List.of(choice));
    body.put("usage", usage(done.usage()));
    return body;
  }

  /** One streamed chunk with a single choice whose {@code delta} is given. */
  static Map<String, Object> chunk(
      String id, long created, String model, Map<String, Object> delta, String finishReason) {
    Map<String, Object> choice = new LinkedHashMap<>();
    choice.put("index", 0);
    choice.put("delta", delta);
    choice.put("finish_reason", finishReason);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", id);
    body.put("object", "chat.completion.chunk");
    body.put("created", created);
    body.put("model", model);
    body.put("choices", List.of(choice));
    return body;
  }

  /** The closing chunk of a stream: no choices, the usage of the whole call. */
  static Map<String, Object> usageChunk(String id, long created, String model, Usage usage) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", id);
    body.put("object", "chat.completion.chunk");
    body.put("created", created);
    body.put("model", model);
    body.put("choices", List.of());
    body.put("usage", usage(usage));
    return body;
  }
}
