package dev.jodo.kernel.memory.embed;

import dev.jodo.kernel.gateway.Embedding;
import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.gateway.Intent;
import dev.jodo.kernel.gateway.Priority;
import dev.jodo.kernel.gateway.Route;
import dev.jodo.kernel.platform.auth.Principal;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Embeddings from a provider's model through the inference gateway: routed, admitted against the
 * caller's quotas and the provider's budget, and billed to the caller like any other call. Gateway
 * failures ({@code ApiException}: 400 for an unknown model or a rejected input, 429 for a quota,
 * 503 when no provider can serve) reach the caller unchanged.
 *
 * <pre>{@code
 * Embedder embedder = new GatewayEmbedder(gateway, "jodo:embed");
 * Embedder.Embedded done = embedder.embed(caller, List.of("The project deadline is Friday"));
 * done.model();  // "openai/text-embedding-3-small": who served this call
 * done.cost();   // what the gateway billed for it
 * }</pre>
 *
 * <p>With {@code jodo:embed} the gateway picks the provider per call (its embed preferences,
 * budgets and fallbacks), so the model can change between calls; each result names the {@code
 * provider/model} that served it, and {@link #model()} reports the last one. Vectors are scaled to
 * unit length, as the local model's are, whatever the provider returns.
 */
public final class GatewayEmbedder implements Embedder {
  /** Routes by the gateway's embed intent instead of naming a model. */
  public static final String INTENT_ALIAS = "jodo:embed";

  private final Gateway gateway;
  private final Route route;
  private final String configured;
  private volatile String lastServed;

  /**
   * {@code modelOrAlias} is {@value #INTENT_ALIAS} or the name of an embedding model configured
   * under a provider; the gateway refuses an unknown name on the first call.
   */
  public GatewayEmbedder(Gateway gateway, String modelOrAlias) {
    this.gateway = Objects.requireNonNull(gateway, "gateway");
    Objects.requireNonNull(modelOrAlias, "modelOrAlias");
    String name = modelOrAlias.strip();
    if (name.equals(INTENT_ALIAS)) {
      this.route = Route.of(Intent.EMBED);
    } else if (name.isEmpty() || name.startsWith("jodo:")) {
      throw new IllegalArgumentException(
          "memory.gateway_model: '"
              + modelOrAlias
              + "' cannot embed; use "
              + INTENT_ALIAS
              + " or the name of a configured embedding model");
    } else {
      this.route = Route.model(name, Intent.EMBED);
    }
    this.configured = name;
  }

  /** The configured name until the first call, then the {@code provider/model} that served it. */
  @Override
  public String model() {
    String served = lastServed;
    return served != null ? served : configured;
  }

  @Override
  public Embedded embed(Principal caller, List<String> texts) {
    Embedders.requireText(texts);
    if (texts.isEmpty()) {
      return new Embedded(List.of(), BigDecimal.ZERO, model());
    }
    Embedding done = gateway.embed(caller, route, texts, Priority.NORMAL);
    if (done.vectors().size() != texts.size()) {
      throw new IllegalStateException(
          done.provider()
              + "/"
              + done.model()
              + " returned "
              + done.vectors().size()
              + " vectors for "
              + texts.size()
              + " texts");
    }
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (float[] vector : done.vectors()) {
      vectors.add(Embedders.normalized(vector));
    }
    String served = done.provider() + "/" + done.model();
    lastServed = served;
    return new Embedded(vectors, done.cost(), served);
  }

  /** Nothing to release: the gateway belongs to the kernel. */
  @Override
  public void close() {}
}
