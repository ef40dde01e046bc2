package dev.jodo.kernel.memory.embed;

import dev.jodo.kernel.platform.Throwables;
import dev.jodo.kernel.platform.auth.Principal;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bundled all-MiniLM-L6-v2 sentence encoder: 384-dimension unit vectors from ONNX Runtime in
 * this process, no network, no cost.
 *
 * <pre>{@code
 * try (Embedder embedder = new LocalEmbedder(home.resolve("cache"))) {
 *   float[] v = embedder.embed(caller, List.of("The human's name is Ada")).vectors().get(0);
 * }
 * }</pre>
 *
 * <p>The model loads once per JVM, when the first instance is built, and later instances share it.
 * Loading takes a second or two on an idle two-core machine (about 2.3 CPU-seconds), and the
 * process keeps about 250 MB of native memory for the model and ONNX Runtime afterwards. The
 * constructor also embeds one text, so a broken native library fails the kernel's start rather than
 * its first request. Under {@code cacheDir}, {@code models/} keeps the model unpacked from the jar
 * ({@link ModelFile}) and {@code native/} the tokenizer's native library; see {@link
 * NativeLibraries} for what else is configured and where ONNX Runtime unpacks itself. Where the
 * model cannot be unpacked (a read-only home), it is read from the jar: its 90 MB then pass through
 * the heap, which needs about 250 MB free at that moment.
 *
 * <p>Texts run on a pool of platform threads, one per core, each text a separate model run on one
 * ONNX Runtime thread ({@link MiniLmModel} says why, and why texts are not batched); a list is
 * embedded in parallel. The callers (virtual threads) wait without pinning a carrier while the
 * CPU-bound native work happens on the pool, and the pool bounds how much CPU embedding can take
 * from the rest of the kernel.
 *
 * <p>Only a text's first 128 tokens (with [CLS] and [SEP]: about 100 English words, 500 to 600
 * characters) shape its vector; the rest is ignored. The bundled tokenizer truncates there, the
 * length the model was trained on, so langchain4j's own splitting of texts over 510 tokens never
 * comes into play. A 32 KiB memory costs one model run plus tokenizing the whole text; search that
 * must see all of a long memory relies on the text index.
 */
public final class LocalEmbedder implements Embedder {
  public static final String MODEL = "all-minilm-l6-v2";
  public static final int DIMENSIONS = 384;
  private static final Logger log = LoggerFactory.getLogger(LocalEmbedder.class);

  private final ExecutorService workers;
  private final MiniLmModel model;

  public LocalEmbedder(Path cacheDir) {
    Path nativeDir = cacheDir.resolve("native");
    NativeLibraries.keepUnder(nativeDir);
    int threads = Runtime.getRuntime().availableProcessors();
    this.workers =
        Executors.newFixedThreadPool(
            threads, Thread.ofPlatform().name("jodo-embed-", 1).daemon(true).factory());
    long start = System.nanoTime();
    try {
      this.model = new MiniLmModel(workers, cacheDir.resolve("models"));
      model.embed("warm up");
    } catch (RuntimeException | LinkageError e) {
      workers.shutdownNow();
      throw new IllegalStateException(
          "cannot load the bundled all-MiniLM-L6-v2 embedding model: "
              + Throwables.root(e)
              + " (tokenizer native library under "
              + nativeDir.toAbsolutePath()
              + ", ONNX Runtime under java.io.tmpdir="
              + System.getProperty("java.io.tmpdir")
              + "); set memory.embedder: gateway to embed through a provider instead",
          e);
    }
    log.info(
        "loaded {} ({} dimensions, {} threads) in {} ms",
        MODEL,
        DIMENSIONS,
        threads,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  @Override
  public String model() {
    return MODEL;
  }

  @Override
  public Embedded embed(Principal caller, List<String> texts) {
    Embedders.requireText(texts);
    List<Future<float[]>> pending = new ArrayList<>(texts.size());
    try {
      for (String text : texts) {
        pending.add(workers.submit(() -> model.embed(text).content().vector()));
      }
    } catch (RejectedExecutionException e) {
      pending.forEach(future -> future.cancel(false));
      throw new IllegalStateException("the local embedder is closed", e);
    }
    List<float[]> vectors = new ArrayList<>(texts.size());
    for (int i = 0; i < pending.size(); i++) {
      try {
        vectors.add(pending.get(i).get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        pending.forEach(future -> future.cancel(false));
        throw new IllegalStateException(
            "interrupted while embedding " + texts.size() + " text(s) with " + MODEL, e);
      } catch (ExecutionException e) {
        pending.forEach(future -> future.cancel(false));
        throw failed(e.getCause(), i, texts.size());
      }
    }
    return new Embedded(vectors, BigDecimal.ZERO, MODEL);
  }

  /** Waits briefly for running texts; the shared model itself stays loaded for the JVM. */
  @Override
  public void close() {
    workers.shutdown();
    try {
      if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      workers.shutdownNow();
    }
  }

  private static RuntimeException failed(Throwable cause, int index, int count) {
    // Text that is not blank to Java but has no token the model reads (zero-width spaces, say).
    if (cause instanceof IllegalArgumentException) {
      return Embedders.blank(index, count);
    }
    return new IllegalStateException(
        "embedding text " + (index + 1) + " of " + count + " with " + MODEL + " failed: " + cause,
        cause);
  }
}
