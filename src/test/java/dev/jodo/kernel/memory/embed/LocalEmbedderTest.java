package dev.jodo.kernel.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.util.Utils;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.http.ApiException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real bundled model: quality on a labelled set, shape, determinism, limits, concurrency. */
class LocalEmbedderTest {
  private static final Principal CALLER = new Principal("ada", false, EnumSet.of(Scope.MEMORY));

  @TempDir static Path cacheDir;
  static LocalEmbedder embedder;
  static LabelledMemories labelled;
  static List<float[]> memoryVectors;

  @BeforeAll
  static void load() {
    embedder = new LocalEmbedder(cacheDir);
    labelled = LabelledMemories.load();
    memoryVectors = embedder.embed(CALLER, labelled.memories()).vectors();
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  @Test
  void paraphrasedQuestionsFindTheMemoryThatAnswersThem() {
    int top1 = 0;
    int top3 = 0;
    List<String> report = new ArrayList<>();
    for (LabelledMemories.Question question : labelled.questions()) {
      float[] query = embedder.embed(CALLER, List.of(question.query())).vectors().get(0);
      List<String> ranked =
          IntStream.range(0, memoryVectors.size())
              .boxed()
              .sorted(
                  Comparator.comparingDouble(
                      (Integer i) -> -Embedders.cosine(query, memoryVectors.get(i))))
              .map(labelled.memories()::get)
              .toList();
      int rank = ranked.indexOf(question.answer()) + 1;
      top1 += rank == 1 ? 1 : 0;
      top3 += rank <= 3 ? 1 : 0;
      report.add(rank + "  " + question.query() + "  ->  " + ranked.get(0));
    }
    String figures =
        "top-1 "
            + top1
            + "/"
            + labelled.questions().size()
            + ", top-3 "
            + top3
            + "/"
            + labelled.questions().size()
            + "\n"
            + String.join("\n", report);
    System.out.println("[LocalEmbedderTest] " + figures);
    assertThat(top1).as(figures).isGreaterThanOrEqualTo(11);
    assertThat(top3).as(figures).isEqualTo(labelled.questions().size());
  }

  @Test
  void vectorsAreUnitLengthWith384Dimensions() {
    assertThat(memoryVectors).hasSize(labelled.memories().size());
    for (float[] vector : memoryVectors) {
      assertThat(vector).hasSize(LocalEmbedder.DIMENSIONS);
      assertThat(norm(vector)).isCloseTo(1.0, within(1e-5));
    }
  }

  @Test
  void resultNamesTheModelAndCostsNothing() {
    Embedder.Embedded done = embedder.embed(CALLER, List.of("The project deadline is Friday"));
    assertThat(done.model()).isEqualTo("all-minilm-l6-v2");
    assertThat(embedder.model()).isEqualTo("all-minilm-l6-v2");
    assertThat(done.cost()).isEqualByComparingTo(BigDecimal.ZERO);
  }

  @Test
  void sameTextEmbedsIdenticallyOnEveryCall() {
    float[] first = embedder.embed(CALLER, List.of("Ada's cat is called Turing")).vectors().get(0);
    float[] second = embedder.embed(CALLER, List.of("Ada's cat is called Turing")).vectors().get(0);
    assertThat(second).containsExactly(first);
  }

  @Test
  void aBatchEmbedsExactlyAsOneTextAtATime() {
    for (int i = 0; i < labelled.memories().size(); i++) {
      float[] alone = embedder.embed(CALLER, List.of(labelled.memories().get(i))).vectors().get(0);
      assertThat(memoryVectors.get(i)).as(labelled.memories().get(i)).containsExactly(alone);
    }
  }

  @Test
  void anEmptyListEmbedsNothing() {
    Embedder.Embedded done = embedder.embed(CALLER, List.of());
    assertThat(done.vectors()).isEmpty();
    assertThat(done.cost()).isEqualByComparingTo(BigDecimal.ZERO);
  }

  @Test
  void blankTextIsRefusedWithA400NamingIt() {
    for (String blank : List.of("", "  \n\t", "\u200B")) {
      assertThatThrownBy(() -> embedder.embed(CALLER, List.of("The human's name is Ada", blank)))
          .isInstanceOfSatisfying(
              ApiException.class,
              e -> {
                assertThat(e.status()).isEqualTo(400);
                assertThat(e.code()).isEqualTo("invalid_request");
              })
          .hasMessage(
              "cannot embed text 2 of 2: it is empty or whitespace, so there is nothing to embed");
    }
  }

  /**
   * The bundled tokenizer truncates at 128 tokens, so a 32 KiB text embeds as its opening: what
   * comes after (here, all the text about backups) does not move its vector.
   */
  @Test
  void aLongTextIsEmbeddedFromItsFirst128Tokens() {
    StringBuilder text = new StringBuilder();
    while (text.length() < 2048) {
      text.append("Ada's cat is called Turing and sleeps on the keyboard. ");
    }
    String opening = text.toString();
    while (text.length() < 32 * 1024) {
      text.append("The server's backup runs at 3am and copies the database offsite. ");
    }
    String longText = text.substring(0, 32 * 1024);
    long start = System.nanoTime();
    float[] vector = embedder.embed(CALLER, List.of(longText)).vectors().get(0);
    long millis = (System.nanoTime() - start) / 1_000_000;
    System.out.println("[LocalEmbedderTest] 32 KiB text embedded in " + millis + " ms");

    assertThat(vector).hasSize(LocalEmbedder.DIMENSIONS);
    assertThat(norm(vector)).isCloseTo(1.0, within(1e-5));
    assertThat(vector).containsExactly(vectorOf(opening));
    double cat = Embedders.cosine(vector, vectorOf("Ada's cat is called Turing"));
    double backup = Embedders.cosine(vector, vectorOf("The server's backup runs at 3am"));
    assertThat(cat).isGreaterThan(backup);
  }

  @Test
  void eightThreadsAtOnceGetIdenticalVectors() throws Exception {
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<List<float[]>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(
            pool.submit(
                () -> {
                  go.await();
                  return embedder.embed(CALLER, labelled.memories()).vectors();
                }));
      }
      go.countDown();
      for (Future<List<float[]>> result : results) {
        List<float[]> vectors = result.get();
        for (int i = 0; i < vectors.size(); i++) {
          assertThat(vectors.get(i)).containsExactly(memoryVectors.get(i));
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClosedEmbedderRefusesWork() {
    LocalEmbedder second = new LocalEmbedder(cacheDir);
    assertThat(second.embed(CALLER, List.of("still open")).vectors()).hasSize(1);
    second.close();
    assertThatThrownBy(() -> second.embed(CALLER, List.of("too late")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the local embedder is closed");
  }

  /**
   * No network and nothing under the user's home: DJL is offline (no telemetry, no native
   * downloads) and unpacks its tokenizer library into a directory the kernel chose. The first
   * embedder in a JVM sets these, so another test class may have chosen the directory.
   */
  @Test
  void nativeLibrariesStayOfflineAndInTheKernelsDirectory() throws Exception {
    assertThat(Utils.isOfflineMode()).isTrue();
    assertThat(Utils.getEnvOrSystemProperty("OPT_OUT_TRACKING")).isEqualTo("true");
    Path cache = Utils.getEngineCacheDir();
    assertThat(cache).isNotEqualTo(Path.of(System.getProperty("user.home"), ".djl.ai"));
    if (cache.equals(cacheDir.resolve("native").toAbsolutePath())) {
      try (Stream<Path> files = Files.walk(cache)) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .contains(System.mapLibraryName("tokenizers"));
      }
    }
  }

  private static float[] vectorOf(String text) {
    return embedder.embed(CALLER, List.of(text)).vectors().get(0);
  }

  private static double norm(float[] vector) {
    double sum = 0;
    for (float v : vector) {
      sum += (double) v * v;
    }
    return Math.sqrt(sum);
  }
}
