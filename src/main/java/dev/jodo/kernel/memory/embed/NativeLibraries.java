package dev.jodo.kernel.memory.embed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Keeps the natives behind {@link LocalEmbedder} offline and inside a directory the kernel owns.
 *
 * <p>DJL (the tokenizer) and JNA read these settings only from environment variables or JVM-wide
 * system properties, once per JVM when the tokenizer first loads. So the first embedder in a JVM
 * decides them, and an operator's own setting of any of them always wins:
 *
 * <ul>
 *   <li>{@code ai.djl.offline=true}: without it DJL phones home once a day per JVM when a tokenizer
 *       is created (up to four HTTP calls to the EC2 metadata address 169.254.169.254 with 1 s
 *       timeouts, then a telemetry GET to S3 on EC2), and on a host with CUDA it tries to download
 *       a GPU build of the tokenizer from publish.djl.ai. Offline, it uses the CPU build bundled in
 *       its jar.
 *   <li>{@code ENGINE_CACHE_DIR=dir}: the tokenizer's {@code libtokenizers.so} (14 MB) is unpacked
 *       once to {@code dir/tokenizers/<version>-cpu-<platform>/} and reused, instead of {@code
 *       ~/.djl.ai}.
 *   <li>{@code jna.tmpdir=dir/jna}: JNA, loaded by DJL's CUDA probe, unpacks its dispatch library
 *       there instead of {@code ~/.cache/JNA}.
 * </ul>
 *
 * <p>ONNX Runtime is not configurable this way: on every start it unpacks its own libraries (17 MB)
 * into a new {@code java.io.tmpdir/onnxruntime-java*} directory and deletes the files at exit (the
 * empty directory stays). A JVM whose temp directory is mounted noexec must be started with {@code
 * -Djava.io.tmpdir} pointing elsewhere.
 */
final class NativeLibraries {
  private NativeLibraries() {}

  static synchronized void keepUnder(Path dir) {
    Path jna = dir.resolve("jna");
    try {
      Files.createDirectories(jna);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create " + jna + " for the local embedder's native libraries: " + e, e);
    }
    if (unset("DJL_OFFLINE") && unset("ai.djl.offline")) {
      System.setProperty("ai.djl.offline", "true");
    }
    if (unset("OPT_OUT_TRACKING")) {
      System.setProperty("OPT_OUT_TRACKING", "true");
    }
    if (unset("ENGINE_CACHE_DIR") && unset("DJL_CACHE_DIR")) {
      System.setProperty("ENGINE_CACHE_DIR", dir.toAbsolutePath().toString());
    }
    if (unset("jna.tmpdir")) {
      System.setProperty("jna.tmpdir", jna.toAbsolutePath().toString());
    }
  }

  /** Neither an environment variable nor a system property of that name is set. */
  private static boolean unset(String name) {
    return System.getenv(name) == null && System.getProperty(name) == null;
  }
}
