package dev.jodo.kernel.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our session differs from langchain4j's only in its thread settings, so it must embed as the stock
 * model does. This loads the stock model too (about 250 MB more for this JVM).
 */
class MiniLmModelTest {
  @TempDir static Path cacheDir;

  @Test
  void embedsAsLangchain4jsStockModelDoes() {
    // Before any tokenizer loads: keeps DJL offline for every later test in this JVM.
    NativeLibraries.keepUnder(cacheDir.resolve("native"));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      MiniLmModel ours = new MiniLmModel(pool, cacheDir.resolve("models"));
      AllMiniLmL6V2EmbeddingModel stock = new AllMiniLmL6V2EmbeddingModel(pool);
      List<String> texts = LabelledMemories.load().memories();
      double worst = 0;
      for (String text : texts) {
        float[] mine = ours.embed(text).content().vector();
        float[] theirs = stock.embed(text).content().vector();
        assertThat(mine).as(text).hasSize(LocalEmbedder.DIMENSIONS);
        assertThat(mine).as(text).containsExactly(theirs, within(1e-6f));
        worst = Math.max(worst, 1 - Embedders.cosine(mine, theirs));
      }
      System.out.println(
          "[MiniLmModelTest] " + texts.size() + " texts; largest 1 - cosine to stock: " + worst);
    } finally {
      pool.shutdownNow();
    }
  }
}
