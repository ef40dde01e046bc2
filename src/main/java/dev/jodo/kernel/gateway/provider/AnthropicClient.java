package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * Anthropic's Messages API: {@code POST {base_url}/v1/messages} with {@code x-api-key} and {@code
 * anthropic-version}. A stream must end with {@code message_stop}. Anthropic has no embeddings.
 */
public final class AnthropicClient implements ProviderClient {
  static final String VERSION = "2023-06-01";
  private static final String MESSAGES = "/v1/messages";

  private final ProviderHttp http;
  private final AnthropicTranslation translation;
  private final Map<String, String> headers;

  AnthropicClient(ProviderHttp http, String apiKey) {
    this.http = http;
    this.translation = new AnthropicTranslation(http.mapper(), http.name());
    this.headers =
        apiKey == null || apiKey.isEmpty()
            ? Map.of("anthropic-version", VERSION)
            : Map.of("x-api-key", apiKey, "anthropic-version", VERSION);
  }

  @Override
  public ChatResult chat(ChatRequest request) throws ProviderException {
    JsonNode body = http.postJson(MESSAGES, headers, translation.request(request, false));
    return translation.response(body, request.model());
  }

  @Override
  public ChatResult stream(ChatRequest request, StreamListener listener) throws ProviderException {
    StreamAccumulator accumulator = new StreamAccumulator(listener, request.model());
    return http.stream(
        MESSAGES,
        headers,
        translation.request(request, true),
        accumulator,
        new SseReader(new AnthropicStream(http, accumulator)));
  }

  @Override
  public EmbeddingResult embed(String model, List<String> inputs) throws ProviderException {
    throw new ProviderException.Rejected(
        400, "anthropic has no embeddings API; route embed to openai or ollama");
  }

  @Override
  public void close() {
    http.close();
  }
}
