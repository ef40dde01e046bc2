package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, LM Studio, Groq, ...): {@code POST
 * {base_url}/chat/completions} and {@code /embeddings}, the base URL ending in {@code /v1}. A
 * stream must end with {@code data: [DONE]}; one that stops short is a broken connection.
 */
public final class OpenAiClient implements ProviderClient {
  private final ProviderHttp http;
  private final Map<String, String> headers;

  OpenAiClient(ProviderHttp http, String apiKey) {
    this.http = http;
    // Keyless local servers get no Authorization header at all.
    this.headers =
        apiKey == null || apiKey.isEmpty() ? Map.of() : Map.of("authorization", "Bearer " + apiKey);
  }

  @Override
  public ChatResult chat(ChatRequest request) throws ProviderException {
    JsonNode body =
        http.postJson(
            "/chat/completions", headers, OpenAiTranslation.request(http.mapper(), request, false));
    return OpenAiTranslation.response(body, request.model());
  }

  @Override
  public ChatResult stream(ChatRequest request, StreamListener listener) throws ProviderException {
    StreamAccumulator accumulator = new StreamAccumulator(listener, request.model());
    SseReader events =
        new SseReader(
            (event, data) -> {
              if (data.strip().equals("[DONE]")) {
                return true;
              }
              JsonNode chunk = http.parseStreamed(data);
              if (chunk.has("error")) {
                throw streamedError(chunk.path("error"));
              }
              OpenAiTranslation.chunk(chunk, accumulator);
              return false;
            });
    return http.stream(
        "/chat/completions",
        headers,
        OpenAiTranslation.request(http.mapper(), request, true),
        accumulator,
        events);
  }

  /** An error sent as a stream event after the 200: its {@code code} is a status when numeric. */
  private ProviderException streamedError(JsonNode error) {
    int code = error.path("code").asInt(0);
    int status = code >= 400 && code <= 599 ? code : 502;
    String detail = error.isTextual() ? error.asText() : error.path("message").asText("");
    return ProviderErrors.forStatus(
        status,
        http.redact(
            http.name() + " sent an error in its stream (status " + status + "): " + detail),
        Optional.empty());
  }

  @Override
  public EmbeddingResult embed(String model, List<String> inputs) throws ProviderException {
    JsonNode body =
        http.postJson(
            "/embeddings", headers, OpenAiTranslation.embedRequest(http.mapper(), model, inputs));
    return OpenAiTranslation.embedResponse(body, model, inputs.size(), http.name());
  }

  @Override
  public void close() {
    http.close();
  }
}
