package dev.jodo.kernel.gateway.provider;

import java.util.List;

/**
 * One provider's wire protocol. Implementations share one {@link ProviderHttp} (a keep-alive
 * connection pool), apply the provider's timeouts, and never log or return the API key.
 */
public interface ProviderClient extends AutoCloseable {
  /** A complete (non-streamed) chat call. */
  ChatResult chat(ChatRequest request) throws ProviderException;

  /**
   * A streamed chat call: deltas go to {@code listener} as they arrive; returns the whole answer
   * (with usage if the provider reported it) when the stream ends.
   */
  ChatResult stream(ChatRequest request, StreamListener listener) throws ProviderException;

  EmbeddingResult embed(String model, List<String> inputs) throws ProviderException;

  /** Releases the HTTP client's connections. */
  @Override
  void close();
}
