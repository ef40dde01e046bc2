package dev.jodo.kernel.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.memory.embed.Embedder;
import dev.jodo.kernel.memory.embed.LocalEmbedder;
import dev.jodo.kernel.platform.auth.Principal;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class EmbedderLoaderTest {
  private static final String BROKEN = "cannot load the bundled all-MiniLM-L6-v2 embedding model";

  @Test
  void aModelThatFailedToLoadStopsTheStartAndHoldsRunsUntilTheStop() throws Exception {
    EmbedderLoader loader =
        new EmbedderLoader(null, CompletableFuture.failedFuture(new IllegalStateException(BROKEN)));
    Embedder embedder = loader.take(null);
    assertThat(embedder.model()).isEqualTo(LocalEmbedder.MODEL);

    // The starting thread learns why, in the loader's own words.
    assertThatThrownBy(loader::awaitLoaded)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(BROKEN);

    // A run's embed call is held, not failed, until the stop interrupts it.
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread run =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    embedder.embed(Principal.administrator(), List.of("remember this"));
                  } catch (Throwable t) {
                    thrown.set(t);
                  }
                });
    run.join(300);
    assertThat(run.isAlive()).as("held while the kernel stops").isTrue();
    assertThat(thrown.get()).isNull();

    run.interrupt();
    run.join(10_000);
    assertThat(run.isAlive()).isFalse();
    assertThat(thrown.get())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("the kernel is stopping")
        .hasRootCauseMessage(BROKEN);
  }

  @Test
  void anErrorWhileLoadingNamesTheFix() {
    EmbedderLoader loader =
        new EmbedderLoader(
            null, CompletableFuture.failedFuture(new OutOfMemoryError("Java heap space")));
    assertThatThrownBy(loader::awaitLoaded)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Java heap space")
        .hasMessageContaining("memory.embedder: gateway")
        .isNotInstanceOf(CompletionException.class);
  }
}
