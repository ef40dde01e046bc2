package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Anthropic's named stream events folded into a {@link StreamAccumulator}. Content-block indexes
 * count text blocks too; the listener sees tool calls numbered among tool calls only.
 */
final class AnthropicStream implements SseReader.EventHandler {
  private final ProviderHttp http;
  private final StreamAccumulator accumulator;
  private final Map<Integer, Integer> toolByBlock = new HashMap<>();

  AnthropicStream(ProviderHttp http, StreamAccumulator accumulator) {
    this.http = http;
    this.accumulator = accumulator;
  }

  @Override
  public boolean onEvent(String event, String data)
      throws ProviderException, StreamAccumulator.ListenerFailed {
    if (event.equals("ping")) {
      return false;
    }
    JsonNode json = http.parseStreamed(data);
    String type = json.path("type").asText(event);
    switch (type) {
      case "message_start" -> {
        JsonNode message = json.path("message");
        accumulator.model(message.path("model").asText(null));
        readUsage(message.path("usage"));
      }
      case "content_block_start" -> {
        JsonNode block = json.path("content_block");
        int index = json.path("index").asInt();
        if (block.path("type").asText().equals("tool_use")) {
          int tool = toolByBlock.size();
          toolByBlock.put(index, tool);
          accumulator.toolCall(tool, block.path("id").asText(), block.path("name").asText(), "");
        } else if (block.path("type").asText().equals("text")) {
          accumulator.text(block.path("text").asText(""));
        }
      }
      case "content_block_delta" -> {
        JsonNode delta = json.path("delta");
        switch (delta.path("type").asText()) {
          case "text_delta" -> accumulator.text(delta.path("text").asText(""));
          case "input_json_delta" -> {
            Integer tool = toolByBlock.get(json.path("index").asInt());
            if (tool != null) {
              accumulator.toolCall(tool, null, null, delta.path("partial_json").asText(""));
            }
          }
          default -> {
            // thinking_delta, signature_delta: not part of the canonical answer
          }
        }
      }
      case "message_delta" -> {
        String stopReason = json.path("delta").path("stop_reason").asText("");
        if (!stopReason.isEmpty()) {
          accumulator.finishReason(
              AnthropicTranslation.finishReason(stopReason, accumulator.toolCallCount() > 0));
        }
        readUsage(json.path("usage"));
      }
      case "message_stop" -> {
        return true;
      }
      case "error" -> throw streamedError(json.path("error"));
      default -> {
        // content_block_stop and event types added later carry nothing we need
      }
    }
    return false;
  }

  /** message_start carries the input count; message_delta the cumulative output count. */
  private void readUsage(JsonNode usage) {
    if (usage.path("input_tokens").isNumber()) {
      accumulator.inputTokens(usage.path("input_tokens").asInt());
    }
    if (usage.path("output_tokens").isNumber()) {
      accumulator.outputTokens(usage.path("output_tokens").asInt());
    }
  }

  private ProviderException streamedError(JsonNode error) {
    String errorType = error.path("type").asText("api_error");
    int status = ProviderErrors.anthropicStatus(errorType);
    return ProviderErrors.forStatus(
        status,
        http.redact(
            http.name()
                + " sent an error in its stream ("
                + errorType
                + ", status "
                + status
                + "): "
                + error.path("message").asText("")),
        Optional.empty());
  }
}
