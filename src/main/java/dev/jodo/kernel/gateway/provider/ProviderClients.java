package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.config.Secret;

/**
 * Builds the client for a configured provider, each with its own HTTP client.
 *
 * <pre>{@code
 * ProviderClient claude = ProviderClients.create(config.providers().get("claude"), mapper);
 * ChatResult answer = claude.chat(request);
 * }</pre>
 *
 * <p>The clients are also {@link AutoCloseable}; closing one aborts its calls in flight.
 */
public final class ProviderClients {
  private ProviderClients() {}

  public static ProviderClient create(ProviderConfig config, ObjectMapper mapper) {
    ProviderHttp http = new ProviderHttp(config, mapper);
    String key = config.apiKey().map(Secret::value).orElse("");
    return switch (config.type()) {
      case OPENAI -> new OpenAiClient(http, key);
      case ANTHROPIC -> new AnthropicClient(http, key);
      case OLLAMA -> new OllamaClient(http, key);
    };
  }
}
