package dev.jodo.kernel.platform.config;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;

/**
 * The wire protocol a provider speaks. Base URLs follow each official SDK: OpenAI-style URLs end in
 * {@code /v1}; Anthropic and Ollama URLs do not (their clients add {@code /v1/messages} and {@code
 * /api/...} themselves).
 */
public enum ProviderType {
  ANTHROPIC("https://api.anthropic.com", true),
  OPENAI("https://api.openai.com/v1", true),
  OLLAMA("http://localhost:11434", false);

  private final URI defaultBaseUrl;
  private final boolean needsKeyForDefaultUrl;

  ProviderType(String defaultBaseUrl, boolean needsKeyForDefaultUrl) {
    this.defaultBaseUrl = URI.create(defaultBaseUrl);
    this.needsKeyForDefaultUrl = needsKeyForDefaultUrl;
  }

  public URI defaultBaseUrl() {
    return defaultBaseUrl;
  }

  /** The official hosted APIs refuse keyless calls; local and compatible servers may not. */
  boolean needsKey(URI baseUrl) {
    return needsKeyForDefaultUrl && baseUrl.getHost().equals(defaultBaseUrl.getHost());
  }

  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The type implied by a provider's name when {@code type} is not given. */
  static Optional<ProviderType> inferFromName(String providerName) {
    String name = providerName.toLowerCase(Locale.ROOT);
    if (name.contains("claude") || name.contains("anthropic")) {
      return Optional.of(ANTHROPIC);
    }
    if (name.contains("openai")) {
      return Optional.of(OPENAI);
    }
    if (name.contains("ollama")) {
      return Optional.of(OLLAMA);
    }
    return Optional.empty();
  }
}
