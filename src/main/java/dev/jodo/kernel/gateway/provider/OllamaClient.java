package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A local or remote Ollama server: {@code /api/chat} (streamed as NDJSON, ending with a {@code
 * "done": true} line), {@code /api/embed}, and {@link #models()} from {@code /api/tags}. Ollama
 * itself takes no key; a configured one goes out as a bearer token (ollama.com, or a proxy).
 */
public final class OllamaClient implements ProviderClient {
  private final ProviderHttp http;
  private final OllamaTranslation translation;
  private final Map<String, String> headers;

  OllamaClient(ProviderHttp http, String apiKey) {
    this.http = http;
    this.translation = new OllamaTranslation(http.mapper(), http.name());
    this.headers =
        apiKey == null || apiKey.isEmpty() ? Map.of() : Map.of("authorization", "Bearer " + apiKey);
  }

  @Override
  public ChatResult chat(ChatRequest request) throws ProviderException {
    JsonNode body = http.postJson("/api/chat", headers, translation.request(request, false));
    return translation.response(body, request.model());
  }

  @Override
  public ChatResult stream(ChatRequest request, StreamListener listener) throws ProviderException {
    StreamAccumulator accumulator = new StreamAccumulator(listener, request.model());
    return http.stream(
        "/api/chat",
        headers,
        translation.request(request, true),
        accumulator,
        line -> {
          if (line.isBlank()) {
            return false;
          }
          JsonNode json = http.parseStreamed(line);
          if (json.path("error").isTextual()) {
            // Ollama reports a failure after the 200 as a line of its own.
            throw new ProviderException.Unavailable(
                500,
                http.redact(
                    http.name() + " sent an error in its stream: " + json.path("error").asText()));
          }
          return translation.line(json, accumulator);
        });
  }

  @Override
  public EmbeddingResult embed(String model, List<String> inputs) throws ProviderException {
    JsonNode body = http.postJson("/api/embed", headers, translation.embedRequest(model, inputs));
    return translation.embedResponse(body, model, inputs.size());
  }

  /** The names of the models this server has pulled ({@code GET /api/tags}). */
  public List<String> models() throws ProviderException {
    List<String> names = new ArrayList<>();
    for (JsonNode model : http.getJson("/api/tags", headers).path("models")) {
      names.add(model.path("name").asText());
    }
    return names;
  }

  @Override
  public void close() {
    http.close();
  }
}
