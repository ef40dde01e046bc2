package dev.jodo.kernel.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unpacking a bundled model, with a small resource from the same jar as the model (langchain4j's
 * tokenizer file, 700 KB) standing in for the 90 MB model.
 */
class ModelFileTest {
  private static final String RESOURCE = "all-minilm-l6-v2-tokenizer.json";
  private static final ClassLoader LOADER = ModelFileTest.class.getClassLoader();
  private static byte[] bundled;

  @TempDir Path dir;

  @BeforeAll
  static void readBundled() throws IOException {
    assertThat(LOADER.getResource(RESOURCE)).hasProtocol("jar");
    try (InputStream in = LOADER.getResourceAsStream(RESOURCE)) {
      bundled = in.readAllBytes();
    }
  }

  @Test
  void unpacksOnceAndThenReusesTheCheckedFile() throws IOException {
    Path file = ModelFile.unpacked(LOADER, RESOURCE, dir.resolve("models"));

    assertThat(file.getParent()).isEqualTo(dir.resolve("models"));
    assertThat(file.getFileName().toString())
        .matches("all-minilm-l6-v2-tokenizer-[0-9a-f]{8}-" + bundled.length + "\\.json");
    assertThat(Files.readAllBytes(file)).isEqualTo(bundled);

    FileTime old = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
    Files.setLastModifiedTime(file, old);
    assertThat(ModelFile.unpacked(LOADER, RESOURCE, dir.resolve("models"))).isEqualTo(file);
    assertThat(Files.getLastModifiedTime(file)).as("not written again").isEqualTo(old);
    assertThat(entries(dir.resolve("models"))).containsExactly(file.getFileName().toString());
  }

  @Test
  void aFileAlteredOrCutShortIsUnpackedAgain() throws IOException {
    Path file = ModelFile.unpacked(LOADER, RESOURCE, dir);

    byte[] flipped = bundled.clone();
    flipped[flipped.length / 2] ^= 0x01; // same size: only the CRC tells
    Files.write(file, flipped);
    assertThat(ModelFile.unpacked(LOADER, RESOURCE, dir)).isEqualTo(file);
    assertThat(Files.readAllBytes(file)).isEqualTo(bundled);

    Files.write(file, Arrays.copyOf(bundled, 1000));
    assertThat(ModelFile.unpacked(LOADER, RESOURCE, dir)).isEqualTo(file);
    assertThat(Files.readAllBytes(file)).isEqualTo(bundled);
  }

  @Test
  void otherVersionsAndLeftoverPartsAreRemovedOthersKept() throws IOException {
    Files.writeString(dir.resolve("all-minilm-l6-v2-tokenizer-0badf00d-12.json"), "old version");
    Path leftover = dir.resolve("all-minilm-l6-v2-tokenizer-4711.part");
    Files.writeString(leftover, "a crash halfway, two hours ago");
    Files.setLastModifiedTime(leftover, FileTime.from(Instant.now().minusSeconds(7200)));
    Path writing = dir.resolve("all-minilm-l6-v2-tokenizer-4712.part");
    Files.writeString(writing, "another process, still writing");
    Files.writeString(dir.resolve("notes.txt"), "not ours");

    Path file = ModelFile.unpacked(LOADER, RESOURCE, dir);

    assertThat(entries(dir))
        .containsExactlyInAnyOrder(
            file.getFileName().toString(), writing.getFileName().toString(), "notes.txt");
  }

  @Test
  void aModelOutsideAJarIsUsedWhereItIs() throws IOException {
    // A directory of the class path (target/classes or target/test-classes): no copy is made.
    Path here = ModelFile.unpacked(LOADER, "logback.xml", dir);
    assertThat(here).isRegularFile().hasFileName("logback.xml");
    assertThat(here.getParent().getFileName().toString()).endsWith("classes");
    assertThat(entries(dir)).isEmpty();
  }

  @Test
  void aMissingResourceIsNamed() {
    assertThatThrownBy(() -> ModelFile.unpacked(LOADER, "no-such-model.onnx", dir))
        .isInstanceOf(IOException.class)
        .hasMessage("no-such-model.onnx is not on the class path");
  }

  private static List<String> entries(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}
