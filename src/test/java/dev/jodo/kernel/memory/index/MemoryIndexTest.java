package dev.jodo.kernel.memory.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jodo.kernel.memory.MemoryChange;
import dev.jodo.kernel.memory.MemoryRecord;
import dev.jodo.kernel.memory.index.MemoryIndex.Hit;
import dev.jodo.kernel.memory.index.MemoryIndex.Mode;
import dev.jodo.kernel.memory.index.MemoryIndex.Query;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryIndexTest {
  private static final String MODEL = "all-minilm-l6-v2";
  private static final int DIM = 384;
  private static final Instant CREATED = Instant.parse("2026-11-22T10:15:30.123456Z");

  @TempDir Path dir;
  private MemoryIndex index;
  private final Random random = new Random(42);

  @BeforeEach
  void open() {
    index = MemoryIndex.open(dir.resolve("index"));
  }

  @AfterEach
  void close() {
    index.close();
  }

  @Test
  void upsertReplacesByIdAndDeleteRemoves() {
    float[] a = vector();
    float[] b = vector();
    index.apply(
        List.of(
            upsert(1, memory("mem_a", "jodo", "first words", a)),
            upsert(2, memory("mem_b", "jodo", "other words", b)),
            upsert(3, memory("mem_a", "jodo", "second words", a)),
            delete(4, "mem_b")));

    List<Hit> hits = index.search(query("jodo", a, "", 10, Mode.VECTOR));
    assertThat(hits).extracting(Hit::id).containsExactly("mem_a");
    Hit hit = hits.getFirst();
    assertThat(hit.content()).isEqualTo("second words");
    assertThat(hit.tags()).containsExactly("t1", "t2");
    assertThat(hit.source()).isEqualTo("chat");
    assertThat(hit.createdAt()).isEqualTo(CREATED);
    assertThat(hit.similarity()).isCloseTo(1.0, within(1e-6));
    assertThat(index.liveCount("jodo")).isEqualTo(1);
    assertThat(index.watermark()).isEqualTo(4);
  }

  @Test
  void changesAtOrBelowTheWatermarkAreSkipped() {
    float[] v = vector();
    List<MemoryChange> page =
        List.of(
            upsert(1, memory("mem_a", "jodo", "old text", v)),
            upsert(2, memory("mem_a", "jodo", "new text", v)));
    index.apply(page);
    index.apply(page);
    index.apply(List.of(upsert(1, memory("mem_a", "jodo", "old text", v))));
    index.apply(
        List.of(
            upsert(2, memory("mem_a", "jodo", "new text", v)),
            upsert(3, memory("mem_b", "jodo", "third", vector()))));

    assertThat(index.search(query("jodo", v, "", 10, Mode.VECTOR)))
        .extracting(Hit::id, Hit::content)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("mem_a", "new text"),
            org.assertj.core.groups.Tuple.tuple("mem_b", "third"));
    assertThat(index.liveCount("jodo")).isEqualTo(2);
    assertThat(index.watermark()).isEqualTo(3);
  }

  @Test
  void watermarkSurvivesCloseAndReopen() {
    assertThat(index.watermark()).isZero();
    float[] v = vector();
    index.apply(List.of(upsert(5, memory("mem_a", "jodo", "kept", v))));
    index.close();

    index = MemoryIndex.open(dir.resolve("index"));
    assertThat(index.watermark()).isEqualTo(5);
    assertThat(index.search(query("jodo", v, "", 5, Mode.VECTOR)))
        .extracting(Hit::content)
        .containsExactly("kept");
  }

  @Test
  void crashAfterApplyBeforeCommitReopensAtTheLastCommit() throws IOException {
    float[] a = vector();
    float[] b = vector();
    index.apply(
        List.of(
            upsert(1, memory("mem_a", "jodo", "a v1", a)),
            upsert(2, memory("mem_b", "jodo", "b v1", b))));
    index.commit();
    List<MemoryChange> uncommitted =
        List.of(
            upsert(3, memory("mem_a", "jodo", "a v2", a)),
            delete(4, "mem_b"),
            upsert(5, memory("mem_c", "jodo", "c v1", vector())));
    index.apply(uncommitted);
    assertThat(index.liveCount("jodo")).isEqualTo(2);

    // A process killed now leaves exactly these files: flushed but uncommitted segments included.
    Path crashed = dir.resolve("crashed");
    copyIndexFiles(dir.resolve("index"), crashed);
    try (MemoryIndex reopened = MemoryIndex.open(crashed)) {
      assertThat(reopened.watermark()).isEqualTo(2);
      assertThat(contents(reopened, a)).containsExactly("a v1", "b v1");

      reopened.apply(uncommitted); // the service replays the feed from the watermark
      assertThat(reopened.watermark()).isEqualTo(5);
      assertThat(contents(reopened, a)).containsExactly("a v2", "c v1");
    }

    index.store().abandon();
    index = MemoryIndex.open(dir.resolve("index"));
    assertThat(index.watermark()).isEqualTo(2);
    assertThat(contents(index, a)).containsExactly("a v1", "b v1");
  }

  @Test
  void clearDeletesEverythingAndResetsTheWatermarkDurably() {
    index.apply(List.of(upsert(7, memory("mem_a", "jodo", "gone", vector()))));
    index.clear();
    assertThat(index.watermark()).isZero();
    assertThat(index.liveCount("jodo")).isZero();
    index.store().close(); // no further commit: clear() itself was durable

    index = MemoryIndex.open(dir.resolve("index"));
    assertThat(index.watermark()).isZero();
    assertThat(index.liveCount("jodo")).isZero();
  }

  @Test
  void compactLeavesOneSegmentWithTheSameAnswers() {
    SyntheticVectors data = new SyntheticVectors(DIM, 10, 11);
    for (int batch = 0; batch < 5; batch++) {
      List<MemoryChange> changes = new ArrayList<>();
      for (int i = batch * 100; i < batch * 100 + 100; i++) {
        changes.add(upsert(i + 1, memory("mem_" + i, "jodo", "text " + i, data.vector(i))));
      }
      index.apply(changes);
    }
    assertThat(index.store().segmentCount()).isGreaterThan(1);
    List<Hit> before = index.search(query("jodo", data.query(1), "", 10, Mode.VECTOR));

    index.compact();

    assertThat(index.store().segmentCount()).isEqualTo(1);
    assertThat(index.search(query("jodo", data.query(1), "", 10, Mode.VECTOR))).isEqualTo(before);
    assertThat(ids(query("jodo", data.query(1), "text 417", 1, Mode.TEXT)))
        .containsExactly("mem_417");
    assertThat(index.liveCount("jodo")).isEqualTo(500);
  }

  @Test
  void namespacesAreIsolated() {
    float[] v = vector();
    index.apply(
        List.of(
            upsert(1, memory("mem_a1", "alice", "shared words", v)),
            upsert(2, memory("mem_b1", "bob", "shared words", v)),
            upsert(3, memory("mem_b2", "bob", "shared words", vector()))));

    for (Mode mode : Mode.values()) {
      assertThat(index.search(query("alice", v, "shared", 10, mode)))
          .extracting(Hit::id)
          .containsExactly("mem_a1");
    }
    assertThat(index.liveCount("alice")).isEqualTo(1);
    assertThat(index.liveCount("bob")).isEqualTo(2);
    assertThat(index.liveCount("carol")).isZero();
  }

  @Test
  void tagFilterKeepsMemoriesCarryingEveryTag() {
    float[] v = vector();
    index.apply(
        List.of(
            upsert(1, tagged("mem_x", v, "x")),
            upsert(2, tagged("mem_xy", v, "x", "y")),
            upsert(3, tagged("mem_y", v, "y")),
            upsert(4, tagged("mem_xyz", v, "x", "y", "z"))));

    for (Mode mode : Mode.values()) {
      List<Hit> hits =
          index.search(
              new Query(
                  "jodo",
                  MODEL,
                  v,
                  "note",
                  Set.of("x", "y"),
                  Optional.empty(),
                  10,
                  Optional.empty(),
                  mode));
      assertThat(hits).extracting(Hit::id).containsExactlyInAnyOrder("mem_xy", "mem_xyz");
    }
  }

  @Test
  void onePercentFilterStillReturnsTheTrueNearestOfItsMatches() {
    SyntheticVectors data = new SyntheticVectors(DIM, 20, 7);
    List<MemoryChange> changes = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      List<String> tags = i % 100 == 0 ? List.of("rare") : List.of("common");
      changes.add(upsert(i + 1, memory("mem_" + i, "jodo", "text " + i, data.vector(i), tags)));
    }
    index.apply(changes);

    for (int q = 0; q < 5; q++) {
      float[] target = data.query(q);
      List<String> truth =
          IntStream.range(0, 5_000)
              .filter(i -> i % 100 == 0)
              .boxed()
              .sorted(
                  Comparator.comparingDouble(
                      (Integer i) -> -ExactCosine.cosine(target, data.vector(i))))
              .limit(10)
              .map(i -> "mem_" + i)
              .toList();
      List<Hit> hits =
          index.search(
              new Query(
                  "jodo",
                  MODEL,
                  target,
                  "",
                  Set.of("rare"),
                  Optional.empty(),
                  10,
                  Optional.empty(),
                  Mode.VECTOR));
      assertThat(hits).extracting(Hit::id).containsExactlyElementsOf(truth);
    }
  }

  @Test
  void sourceFilterKeepsThatSourceOnly() {
    float[] v = vector();
    index.apply(
        List.of(
            upsert(1, new MemoryRecord("mem_c", "jodo", "n", List.of(), "chat", CREATED, MODEL, v)),
            upsert(2, new MemoryRecord("mem_t", "jodo", "n", List.of(), "tool", CREATED, MODEL, v)),
            upsert(3, new MemoryRecord("mem_n", "jodo", "n", List.of(), null, null, MODEL, v))));

    for (Mode mode : Mode.values()) {
      List<Hit> hits =
          index.search(
              new Query(
                  "jodo",
                  MODEL,
                  v,
                  "n",
                  Set.of(),
                  Optional.of("tool"),
                  10,
                  Optional.empty(),
                  mode));
      assertThat(hits).extracting(Hit::id).containsExactly("mem_t");
    }
    Hit noSource =
        index.search(query("jodo", v, "", 10, Mode.VECTOR)).stream()
            .filter(h -> h.id().equals("mem_n"))
            .findFirst()
            .orElseThrow();
    assertThat(noSource.source()).isNull();
    assertThat(noSource.createdAt()).isNull();
  }

  @Test
  void minSimilarityDropsWeakerHitsAfterRanking() {
    float[] target = vector();
    List<MemoryChange> changes = new ArrayList<>();
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      float[] v = mix(target, vector(), i / 60.0);
      vectors.add(v);
      changes.add(upsert(i + 1, memory("mem_" + i, "jodo", "words", v)));
    }
    index.apply(changes);
    long expected = vectors.stream().filter(v -> ExactCosine.cosine(target, v) >= 0.8).count();
    assertThat(expected).isBetween(5L, 40L);

    for (Mode mode : Mode.values()) {
      List<Hit> hits =
          index.search(
              new Query(
                  "jodo",
                  MODEL,
                  target,
                  "words",
                  Set.of(),
                  Optional.empty(),
                  100,
                  Optional.of(0.8),
                  mode));
      assertThat(hits).hasSize((int) expected).allMatch(h -> h.similarity() >= 0.8);
    }
  }

  @Test
  void textOnlyMatchIsFoundInTextAndHybridModes() {
    float[] target = vector();
    List<MemoryChange> changes = fillers(target);
    changes.add(upsert(1_000, memory("mem_text", "jodo", "the human prefers zebras", vector())));
    index.apply(changes);

    assertThat(ids(query("jodo", target, "zebras", 3, Mode.VECTOR))).doesNotContain("mem_text");
    assertThat(ids(query("jodo", target, "zebras", 3, Mode.TEXT))).containsExactly("mem_text");
    assertThat(ids(query("jodo", target, "zebras", 3, Mode.HYBRID))).contains("mem_text");
  }

  @Test
  void vectorOnlyMatchIsFoundInVectorAndHybridModes() {
    float[] target = vector();
    List<MemoryChange> changes = fillers(target);
    for (int i = 0; i < 10; i++) {
      changes.add(upsert(1_000 + i, memory("mem_t" + i, "jodo", "concise answers", vector())));
    }
    changes.add(upsert(2_000, memory("mem_vec", "jodo", "unrelated", mix(target, vector(), 0.05))));
    index.apply(changes);

    assertThat(ids(query("jodo", target, "concise answers", 3, Mode.VECTOR))).startsWith("mem_vec");
    assertThat(ids(query("jodo", target, "concise answers", 3, Mode.TEXT)))
        .doesNotContain("mem_vec");
    assertThat(ids(query("jodo", target, "concise answers", 3, Mode.HYBRID))).contains("mem_vec");
  }

  /** 200 memories fairly close to {@code target} whose text matches nothing the tests ask for. */
  private List<MemoryChange> fillers(float[] target) {
    List<MemoryChange> changes = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      changes.add(
          upsert(i + 1, memory("mem_f" + i, "jodo", "filler " + i, mix(target, vector(), 0.4))));
    }
    return changes;
  }

  @Test
  void similarityIsTheExactCosineOfUnnormalizedVectors() {
    List<float[]> vectors = new ArrayList<>();
    List<MemoryChange> changes = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      float[] v = scale(vector(), 0.1f + 10 * random.nextFloat());
      vectors.add(v);
      changes.add(upsert(i + 1, memory("mem_" + i, "jodo", "word" + (i % 7), v)));
    }
    index.apply(changes);
    float[] target = scale(vector(), 3.5f);

    for (Mode mode : Mode.values()) {
      for (Hit hit : index.search(query("jodo", target, "word3", 20, mode))) {
        int i = Integer.parseInt(hit.id().substring(4));
        assertThat(hit.similarity())
            .isCloseTo(bruteForceCosine(target, vectors.get(i)), within(1e-5));
      }
    }
    List<String> truth =
        IntStream.range(0, 300)
            .boxed()
            .sorted(
                Comparator.comparingDouble(
                    (Integer i) -> -bruteForceCosine(target, vectors.get(i))))
            .limit(10)
            .map(i -> "mem_" + i)
            .toList();
    assertThat(ids(query("jodo", target, "", 10, Mode.VECTOR))).containsExactlyElementsOf(truth);
  }

  @Test
  void vectorsOf1536DimensionsIndexSearchAndReopen() throws IOException {
    List<MemoryChange> changes = new ArrayList<>();
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      float[] v = vector(1536);
      vectors.add(v);
      changes.add(upsert(i + 1, memory("mem_" + i, "jodo", "wide", v, "text-embedding-3-small")));
    }
    index.apply(changes);
    index.close();

    index = MemoryIndex.open(dir.resolve("index"));
    Query query =
        new Query(
            "jodo",
            "text-embedding-3-small",
            vectors.get(17),
            "",
            Set.of(),
            Optional.empty(),
            3,
            Optional.empty(),
            Mode.VECTOR);
    Hit first = index.search(query).getFirst();
    assertThat(first.id()).isEqualTo("mem_17");
    assertThat(first.similarity()).isCloseTo(1.0, within(1e-6));

    // Written with stock format names, so plain Lucene opens it without our codec.
    try (FSDirectory directory = FSDirectory.open(dir.resolve("index"));
        DirectoryReader reader = DirectoryReader.open(directory)) {
      FieldInfo info =
          reader
              .leaves()
              .getFirst()
              .reader()
              .getFieldInfos()
              .fieldInfo("vec.text-embedding-3-small");
      assertThat(info.getVectorDimension()).isEqualTo(1536);
      assertThat(info.getAttribute("PerFieldKnnVectorsFormat.format"))
          .isEqualTo("Lucene104HnswBinaryQuantizedVectorsFormat");
      assertThat(reader.leaves().getFirst().reader().getFloatVectorValues(info.name).size())
          .isEqualTo(150);
    }
  }

  @Test
  void twoModelsInOneNamespaceNeverMix() {
    float[] small = vector(64);
    index.apply(
        List.of(
            upsert(1, memory("mem_big", "jodo", "same words", vector(), MODEL)),
            upsert(2, memory("mem_small", "jodo", "same words", small, "tiny-model"))));

    for (Mode mode : Mode.values()) {
      Query tiny =
          new Query(
              "jodo",
              "tiny-model",
              small,
              "same words",
              Set.of(),
              Optional.empty(),
              10,
              Optional.empty(),
              mode);
      assertThat(ids(tiny)).containsExactly("mem_small");
      assertThat(ids(query("jodo", vector(), "same words", 10, mode))).containsExactly("mem_big");
    }
    assertThatThrownBy(() -> index.search(query("jodo", vector(64), "", 10, Mode.VECTOR)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "query vector has 64 dimensions but the index holds 384-dimension vectors for model"
                + " all-minilm-l6-v2");
    assertThat(
            ids(
                new Query(
                    "jodo",
                    "unknown-model",
                    small,
                    "same words",
                    Set.of(),
                    Optional.empty(),
                    10,
                    Optional.empty(),
                    Mode.HYBRID)))
        .isEmpty();
  }

  @Test
  void badChangesFailTheWholeCallAndWriteNothing() {
    float[] v = vector();
    index.apply(List.of(upsert(1, memory("mem_a", "jodo", "ok", v))));

    assertThatThrownBy(
            () ->
                index.apply(
                    List.of(
                        upsert(3, memory("mem_b", "jodo", "b", v)),
                        upsert(2, memory("mem_c", "jodo", "c", v)))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("changes must be in increasing seq order: seq 2 (mem_c) follows seq 3");
    assertThatThrownBy(
            () ->
                index.apply(
                    List.of(
                        upsert(2, memory("mem_b", "jodo", "b", v)),
                        upsert(3, memory("mem_c", "jodo", "c", vector(128))))))
        .hasMessage(
            "change seq 3 (mem_c): embedding has 128 dimensions but model all-minilm-l6-v2's"
                + " vectors have 384");
    assertThatThrownBy(
            () -> index.apply(List.of(upsert(2, memory("mem_z", "jodo", "z", new float[DIM])))))
        .hasMessage("change seq 2 (mem_z): embedding must not be all zeros (cosine is undefined)");
    assertThatThrownBy(
            () -> index.apply(List.of(upsert(2, memory("mem_w", "jodo", "w", vector(4097))))))
        .hasMessage(
            "change seq 2 (mem_w): embedding has 4097 dimensions, more than the index's limit of"
                + " 4096");

    assertThat(index.watermark()).isEqualTo(1);
    assertThat(index.liveCount("jodo")).isEqualTo(1);
  }

  @Test
  void badQueriesAreRefusedWithTheFieldNamed() {
    float[] v = vector();
    assertThatThrownBy(() -> query("jodo", v, "", 0, Mode.VECTOR))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("limit must be in [1, 10000]: 0");
    assertThatThrownBy(
            () ->
                new Query(
                    "jodo",
                    MODEL,
                    v,
                    "",
                    Set.of(),
                    Optional.empty(),
                    5,
                    Optional.of(1.5),
                    Mode.HYBRID))
        .hasMessage("minSimilarity must be in [-1, 1]: 1.5");
    assertThatThrownBy(() -> query(" ", v, "", 5, Mode.VECTOR))
        .hasMessage("namespace must not be blank");
    assertThatThrownBy(() -> query("jodo", new float[0], "", 5, Mode.VECTOR))
        .hasMessage("vector must not be empty");
  }

  @Test
  void textQueriesAcceptAnyCharacters() {
    float[] v = vector();
    index.apply(List.of(upsert(1, memory("mem_a", "jodo", "AND OR (broken\" query: text*", v))));
    assertThat(ids(query("jodo", v, "\"(broken AND -text* :[", 5, Mode.TEXT)))
        .containsExactly("mem_a");
    assertThat(ids(query("jodo", v, "  ?!  ", 5, Mode.TEXT))).isEmpty();
  }

  @Test
  void concurrentSearchesDuringAppliesSeeOnlyWholeMemories() throws Exception {
    SyntheticVectors data = new SyntheticVectors(DIM, 10, 3);
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger searches = new AtomicInteger();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    List<Thread> searchers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      searchers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    int q = thread * 1000;
                    while (!done.get()) {
                      try {
                        Mode mode = Mode.values()[q % 3];
                        for (Hit hit :
                            index.search(query("jodo", data.query(q++), "text", 5, mode))) {
                          int i = Integer.parseInt(hit.id().substring(4));
                          assertThat(hit.content()).isEqualTo("text " + i);
                          assertThat(hit.similarity())
                              .isCloseTo(
                                  ExactCosine.cosine(data.query(q - 1), data.vector(i)),
                                  within(1e-5));
                        }
                        searches.incrementAndGet();
                      } catch (Throwable e) {
                        failures.add(e);
                        return;
                      }
                    }
                  }));
    }
    int seq = 0;
    for (int batch = 0; batch < 20; batch++) {
      List<MemoryChange> changes = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        int n = batch * 50 + i;
        changes.add(upsert(++seq, memory("mem_" + n, "jodo", "text " + n, data.vector(n))));
      }
      index.apply(changes);
      int last = batch * 50 + 49;
      assertThat(ids(query("jodo", data.vector(last), "", 1, Mode.VECTOR)))
          .containsExactly("mem_" + last);
    }
    done.set(true);
    for (Thread thread : searchers) {
      thread.join();
    }
    assertThat(failures).isEmpty();
    assertThat(searches.get()).isGreaterThan(20);
    assertThat(index.liveCount("jodo")).isEqualTo(1_000);
  }

  // --- helpers ---

  private List<String> ids(Query query) {
    return index.search(query).stream().map(Hit::id).toList();
  }

  private static List<String> contents(MemoryIndex index, float[] v) {
    return index.search(query("jodo", v, "", 10, Mode.VECTOR)).stream()
        .map(Hit::content)
        .sorted()
        .toList();
  }

  private static Query query(String namespace, float[] v, String text, int limit, Mode mode) {
    return new Query(
        namespace, MODEL, v, text, Set.of(), Optional.empty(), limit, Optional.empty(), mode);
  }

  private static MemoryRecord memory(String id, String namespace, String content, float[] v) {
    return memory(id, namespace, content, v, MODEL);
  }

  private static MemoryRecord memory(
      String id, String namespace, String content, float[] v, String model) {
    return new MemoryRecord(id, namespace, content, List.of("t1", "t2"), "chat", CREATED, model, v);
  }

  private static MemoryRecord memory(
      String id, String namespace, String content, float[] v, List<String> tags) {
    return new MemoryRecord(id, namespace, content, tags, "chat", CREATED, MODEL, v);
  }

  private static MemoryRecord tagged(String id, float[] v, String... tags) {
    return memory(id, "jodo", "note", v, List.of(tags));
  }

  private static MemoryChange upsert(long seq, MemoryRecord record) {
    return new MemoryChange(seq, record.id(), record);
  }

  private static MemoryChange delete(long seq, String id) {
    return new MemoryChange(seq, id, null);
  }

  private float[] vector() {
    return vector(DIM);
  }

  private float[] vector(int dim) {
    float[] v = new float[dim];
    for (int d = 0; d < dim; d++) {
      v[d] = (float) random.nextGaussian();
    }
    return v;
  }

  /** {@code (1 - w) * a + w * b}: a vector whose cosine to {@code a} falls as w grows. */
  private static float[] mix(float[] a, float[] b, double w) {
    float[] v = new float[a.length];
    for (int d = 0; d < a.length; d++) {
      v[d] = (float) ((1 - w) * a[d] + w * b[d]);
    }
    return v;
  }

  private static float[] scale(float[] v, float factor) {
    float[] scaled = v.clone();
    for (int d = 0; d < v.length; d++) {
      scaled[d] *= factor;
    }
    return scaled;
  }

  /** Independent of the code under test (ExactCosine): a plain double-precision cosine. */
  private static double bruteForceCosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int d = 0; d < a.length; d++) {
      dot += a[d] * (double) b[d];
      na += a[d] * (double) a[d];
      nb += b[d] * (double) b[d];
    }
    return dot / Math.sqrt(na * nb);
  }

  private static void copyIndexFiles(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : files.toList()) {
        if (!file.getFileName().toString().equals("write.lock")) {
          Files.copy(file, to.resolve(file.getFileName()));
        }
      }
    }
  }
}
