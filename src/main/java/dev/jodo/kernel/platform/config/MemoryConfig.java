package dev.jodo.kernel.platform.config;

/**
 * {@code memory:}: which embedder turns text into vectors. {@code local} is the bundled
 * all-MiniLM-L6-v2 (384 dimensions, no network, free); {@code gateway} uses the inference gateway's
 * embed route ({@code gatewayModel}: {@code jodo:embed} or a configured embed model), budgeted like
 * every other call.
 */
public record MemoryConfig(Embedder embedder, String gatewayModel) {
  public static final MemoryConfig DEFAULT = new MemoryConfig(Embedder.LOCAL, "jodo:embed");

  public enum Embedder {
    LOCAL,
    GATEWAY
  }
}
