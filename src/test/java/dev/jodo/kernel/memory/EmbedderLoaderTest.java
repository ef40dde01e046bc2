package dev.jodo.kernel.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.memory.embed.Embedder;
import dev.jodo.kernel.memory.embed.LocalEmbedder;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestConfigs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void theLoadWaitsForTheRunsToBeResumedThenRunsOnItsOwnThread() throws Exception {
    CompletableFuture<Void> resumed = new CompletableFuture<>();
    AtomicReference<String> loadedOn = new AtomicReference<>();
    CompletableFuture<String> model =
        EmbedderLoader.loadAfter(
            resumed,
            Duration.ofSeconds(30),
            () -> {
              loadedOn.set(Thread.currentThread().getName());
              return "model";
            });

    Thread.sleep(300);
    assertThat(model).isNotDone();
    assertThat(loadedOn.get()).as("not begun while runs are being resumed").isNull();

    resumed.complete(null);
    assertThat(model.get(10, TimeUnit.SECONDS)).isEqualTo("model");
    assertThat(loadedOn.get()).isEqualTo("jodo-embedder-load");
  }

  @Test
  void aFailedResumePassStillLetsTheModelLoad() throws Exception {
    CompletableFuture<String> model =
        EmbedderLoader.loadAfter(
            CompletableFuture.failedFuture(new IllegalStateException("database gone")),
            Duration.ofSeconds(30),
            () -> "model");
    assertThat(model.get(10, TimeUnit.SECONDS)).isEqualTo("model");
  }

  @Test
  void aResumePassThatNeverEndsHoldsTheLoadOnlyUntilTheCap() throws Exception {
    long start = System.nanoTime();
    CompletableFuture<String> model =
        EmbedderLoader.loadAfter(new CompletableFuture<>(), Duration.ofMillis(400), () -> "model");
    assertThat(model.get(10, TimeUnit.SECONDS)).isEqualTo("model");
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(400));
  }

  @Test
  void aStartThatFailsBeforeTheLoadBeganNeverLoadsTheModel(@TempDir Path temp) {
    KernelConfig config =
        TestConfigs.kernelConfig(
            temp, DatabaseTarget.External.parse("postgres://127.0.0.1:1/none", 1));
    CompletableFuture<Void> resumed = new CompletableFuture<>();
    EmbedderLoader loader = EmbedderLoader.start(config, resumed);

    loader.close(); // the kernel's start failed while runs were being resumed
    resumed.complete(null);

    assertThatThrownBy(loader::awaitLoaded).isInstanceOf(CancellationException.class);
    assertThat(config.home().resolve("cache").resolve("models")).doesNotExist();
  }
}
