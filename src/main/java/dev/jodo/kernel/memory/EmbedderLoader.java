package dev.jodo.kernel.memory;

import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.memory.embed.Embedder;
import dev.jodo.kernel.memory.embed.GatewayEmbedder;
import dev.jodo.kernel.memory.embed.LocalEmbedder;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.MemoryConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The embedder chosen by {@code memory.embedder}. The bundled local model takes seconds of CPU to
 * load, so it loads on its own thread: the database, the gateway, durable runs and the memory
 * module come up beside it instead of after it. The kernel still waits for it before it serves HTTP
 * ({@link #awaitLoaded()}).
 *
 * <p>When the start has runs to resume (a crash interrupted them), the load waits until they have
 * all been resumed, or at most {@link #MAX_DEFERRAL}: on a small machine the load and the resumed
 * runs compete for the same cores, and the runs are what the owner is waiting for. A resumed run
 * that needs an embedding waits for the load like any other caller.
 */
public final class EmbedderLoader implements AutoCloseable {
  /** How long the load waits at most for interrupted runs to be resumed. */
  static final Duration MAX_DEFERRAL = Duration.ofSeconds(30);

  private final KernelConfig config;
  private final CompletableFuture<LocalEmbedder> local;
  private final AtomicBoolean closed;
  private boolean taken;

  EmbedderLoader(KernelConfig config, CompletableFuture<LocalEmbedder> local) {
    this(config, local, new AtomicBoolean());
  }

  private EmbedderLoader(
      KernelConfig config, CompletableFuture<LocalEmbedder> local, AtomicBoolean closed) {
    this.config = config;
    this.local = local;
    this.closed = closed;
  }

  /**
   * Starts loading the local model, when the configuration chose it, once {@code after} completes
   * (normally or not), or {@link #MAX_DEFERRAL} from now.
   */
  public static EmbedderLoader start(KernelConfig config, CompletionStage<?> after) {
    if (config.memory().embedder() != MemoryConfig.Embedder.LOCAL) {
      return new EmbedderLoader(config, null);
    }
    AtomicBoolean closed = new AtomicBoolean();
    CompletableFuture<LocalEmbedder> local =
        loadAfter(
            after,
            MAX_DEFERRAL,
            () -> {
              if (closed.get()) {
                throw new CancellationException("the kernel stopped before the model loaded");
              }
              return new LocalEmbedder(config.home().resolve("cache"));
            });
    return new EmbedderLoader(config, local, closed);
  }

  /** {@code load} on a thread of its own, once {@code after} completes or {@code cap} passed. */
  static <T> CompletableFuture<T> loadAfter(
      CompletionStage<?> after, Duration cap, Supplier<T> load) {
    return after
        .toCompletableFuture()
        .copy()
        .completeOnTimeout(null, cap.toMillis(), TimeUnit.MILLISECONDS)
        .handle((ignored, failed) -> null)
        .thenApplyAsync(
            ignored -> load.get(),
            task -> Thread.ofPlatform().name("jodo-embedder-load").daemon(true).start(task));
  }

  /**
   * The embedder; the caller owns it from now on and closes it. The local model may still be
   * loading: it answers {@link Embedder#model()} at once and makes an {@code embed} call wait for
   * the load, so the memory module (and a turn's recall in a namespace with no memories, which
   * embeds nothing) is ready before the model is.
   */
  Embedder take(Gateway gateway) {
    taken = true;
    if (local == null) {
      return new GatewayEmbedder(gateway, config.memory().gatewayModel());
    }
    return new Embedder() {
      @Override
      public String model() {
        return LocalEmbedder.MODEL;
      }

      @Override
      public Embedded embed(Principal caller, List<String> texts) {
        return usable().embed(caller, texts);
      }

      @Override
      public void close() {
        local.thenAccept(LocalEmbedder::close);
      }
    };
  }

  /**
   * Waits until the local model has loaded; its failure to load is thrown here, so that the kernel
   * does not come up without the embedder it was configured with.
   */
  public void awaitLoaded() {
    if (local != null) {
      loaded();
    }
  }

  /**
   * The loaded model for an embed call. If it failed to load, the kernel does not start ({@link
   * #awaitLoaded()} throws on the starting thread), so the caller (a run resumed during the start)
   * is held until the stop interrupts it: a run that failed here would be failed for good, while a
   * run the stop interrupts stays pending and resumes at the next start.
   */
  private LocalEmbedder usable() {
    try {
      return loaded();
    } catch (RuntimeException failed) {
      try {
        new CountDownLatch(1).await();
      } catch (InterruptedException stopping) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException(
          "the kernel is stopping: the local embedding model failed to load", failed);
    }
  }

  private LocalEmbedder loaded() {
    try {
      return local.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause; // LocalEmbedder's own message: what failed and what to set instead
      }
      throw new IllegalStateException(
          "cannot load the local embedding model: "
              + e.getCause()
              + "; give the kernel more memory (JODO_JAVA_OPTS=-Xmx…) or set memory.embedder:"
              + " gateway",
          e.getCause());
    }
  }

  /** A load still waiting to begin never begins (the kernel's start failed). */
  public void cancelPending() {
    closed.set(true);
  }

  /**
   * Closes a loaded model nobody took (the kernel failed to start before the memory module); a load
   * still waiting to begin never begins.
   */
  @Override
  public void close() {
    cancelPending();
    if (!taken && local != null) {
      local.thenAccept(LocalEmbedder::close);
    }
  }
}
