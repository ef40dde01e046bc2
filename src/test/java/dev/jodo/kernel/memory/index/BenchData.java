package dev.jodo.kernel.memory.index;

import dev.jodo.kernel.memory.MemoryChange;
import dev.jodo.kernel.memory.MemoryRecord;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.lucene.util.VectorUtil;

/**
 * The benchmark's data set: {@link SyntheticVectors} plus deterministic content, tags and exact
 * nearest neighbours. Filters: tag {@code p1} on ~1% of memories, {@code p10} on ~10%, {@code p50}
 * on ~50%, chosen independently of the clusters.
 */
final class BenchData {
  static final String NAMESPACE = "bench";
  static final String MODEL = "synthetic-384";
  static final int DIM = 384;
  static final int CLUSTERS = 1_000;
  static final long SEED = 20261122L;
  static final int K = 10;

  /** Filter classes in truth order: none, then the tags. */
  static final List<String> FILTERS = List.of("", "p1", "p10", "p50");

  private static final int[] PERCENT = {100, 1, 10, 50};
  private static final int VOCABULARY = 5_000;

  /**
   * 1,000 clusters under 20 topics; each spreads along 64 directions plus noise. At 100k the
   * nearest neighbour has cosine ~0.6 to a query and ~9% of true top-10 neighbours lie in another
   * cluster than the query's (the build phase prints both for the actual size).
   */
  final SyntheticVectors vectors =
      new SyntheticVectors(DIM, CLUSTERS, SEED, 64, 0.4, 0.04, 0.5, 20, 0.3);

  final int size;

  BenchData(int size) {
    this.size = size;
  }

  static boolean inFilter(long i, int filter) {
    if (filter == 0) {
      return true;
    }
    long h = mix(i * 31 + filter);
    return Math.floorMod(h, 100) < PERCENT[filter];
  }

  static List<String> tags(long i) {
    List<String> tags = new ArrayList<>(3);
    for (int f = 1; f < FILTERS.size(); f++) {
      if (inFilter(i, f)) {
        tags.add(FILTERS.get(f));
      }
    }
    return tags;
  }

  String content(long i) {
    SplittableRandom random = new SplittableRandom(mix(i ^ 0x77));
    StringBuilder text =
        new StringBuilder("memory ").append(i).append(" is about topic").append(vectors.cluster(i));
    for (int w = 0; w < 10; w++) {
      text.append(" word").append(skewed(random));
    }
    return text.toString();
  }

  /** Query text sharing the query's cluster topic and two common words. */
  String queryText(long q) {
    SplittableRandom random = new SplittableRandom(mix(q ^ 0x99));
    return "topic" + vectors.queryCluster(q) + " word" + skewed(random) + " word" + skewed(random);
  }

  MemoryChange change(long seq, long i, float[] vector) {
    String id = "mem_" + i;
    return new MemoryChange(
        seq,
        id,
        new MemoryRecord(
            id,
            NAMESPACE,
            content(i),
            tags(i),
            "bench",
            Instant.EPOCH.plusSeconds(1_700_000_000L + i),
            MODEL,
            vector));
  }

  MemoryIndex.Query query(long q, int filter, int limit, MemoryIndex.Mode mode) {
    return new MemoryIndex.Query(
        NAMESPACE,
        MODEL,
        vectors.query(q),
        mode == MemoryIndex.Mode.VECTOR ? "" : queryText(q),
        filter == 0 ? Set.of() : Set.of(FILTERS.get(filter)),
        java.util.Optional.empty(),
        limit,
        java.util.Optional.empty(),
        mode);
  }

  /** All vectors, generated on both cores. */
  float[][] generate() throws Exception {
    float[][] data = new float[size][];
    try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
      List<Future<?>> parts = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        int part = t;
        parts.add(
            pool.submit(
                () -> {
                  for (int i = part; i < size; i += 2) {
                    data[i] = vectors.vector(i);
                  }
                }));
      }
      for (Future<?> f : parts) {
        f.get();
      }
    }
    return data;
  }

  /**
   * Exact top-{@link #K} doc numbers for each query and filter: {@code truth[q][filter]}, best
   * first, by brute force over every vector.
   */
  int[][][] groundTruth(float[][] data, int queries) throws Exception {
    float[][] targets = new float[queries][];
    for (int q = 0; q < queries; q++) {
      targets[q] = vectors.query(q);
    }
    boolean[][] member = new boolean[FILTERS.size()][size];
    for (int f = 0; f < FILTERS.size(); f++) {
      for (int i = 0; i < size; i++) {
        member[f][i] = inFilter(i, f);
      }
    }
    int[][][] truth = new int[queries][][];
    try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
      List<Future<?>> parts = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        int part = t;
        parts.add(
            pool.submit(
                () -> {
                  TopK[][] best = new TopK[queries][FILTERS.size()];
                  for (int q = part; q < queries; q += 2) {
                    for (int f = 0; f < FILTERS.size(); f++) {
                      best[q][f] = new TopK(K);
                    }
                  }
                  for (int i = 0; i < size; i++) {
                    for (int q = part; q < queries; q += 2) {
                      float score = VectorUtil.dotProduct(targets[q], data[i]);
                      for (int f = 0; f < FILTERS.size(); f++) {
                        if (member[f][i]) {
                          best[q][f].offer(i, score);
                        }
                      }
                    }
                  }
                  for (int q = part; q < queries; q += 2) {
                    truth[q] = new int[FILTERS.size()][];
                    for (int f = 0; f < FILTERS.size(); f++) {
                      truth[q][f] = best[q][f].sorted();
                    }
                  }
                }));
      }
      for (Future<?> f : parts) {
        f.get();
      }
    }
    return truth;
  }

  /**
   * How hard the data is: mean cosine of queries to their 1st and 10th true neighbour, and the
   * share of true top-10 neighbours in the query's own cluster.
   */
  double[] difficulty(float[][] data, int[][][] truth) {
    double first = 0;
    double tenth = 0;
    double sameCluster = 0;
    for (int q = 0; q < truth.length; q++) {
      float[] target = vectors.query(q);
      int[] ids = truth[q][0];
      first += VectorUtil.dotProduct(target, data[ids[0]]);
      tenth += VectorUtil.dotProduct(target, data[ids[ids.length - 1]]);
      for (int id : ids) {
        sameCluster += vectors.cluster(id) == vectors.queryCluster(q) ? 1 : 0;
      }
    }
    return new double[] {
      first / truth.length, tenth / truth.length, sameCluster / truth.length / K
    };
  }

  static void writeTruth(Path file, int[][][] truth) throws IOException {
    try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
      out.writeInt(truth.length);
      for (int[][] perFilter : truth) {
        for (int[] ids : perFilter) {
          out.writeInt(ids.length);
          for (int id : ids) {
            out.writeInt(id);
          }
        }
      }
    }
  }

  static int[][][] readTruth(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
      int[][][] truth = new int[in.readInt()][FILTERS.size()][];
      for (int[][] perFilter : truth) {
        for (int f = 0; f < perFilter.length; f++) {
          perFilter[f] = new int[in.readInt()];
          for (int k = 0; k < perFilter[f].length; k++) {
            perFilter[f][k] = in.readInt();
          }
        }
      }
      return truth;
    }
  }

  private static int skewed(SplittableRandom random) {
    double u = random.nextDouble();
    return (int) (VOCABULARY * u * u);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The k best (highest score) of a stream, kept in arrays. */
  static final class TopK {
    private final int[] ids;
    private final float[] scores;
    private int count;
    private int worst;

    TopK(int k) {
      ids = new int[k];
      scores = new float[k];
    }

    void offer(int id, float score) {
      if (count < ids.length) {
        ids[count] = id;
        scores[count++] = score;
        if (count == ids.length) {
          findWorst();
        }
      } else if (score > scores[worst]) {
        ids[worst] = id;
        scores[worst] = score;
        findWorst();
      }
    }

    /** Offers this one's best to {@code other}: merges partial results. */
    void into(TopK other) {
      for (int j = 0; j < count; j++) {
        other.offer(ids[j], scores[j]);
      }
    }

    private void findWorst() {
      worst = 0;
      for (int j = 1; j < count; j++) {
        if (scores[j] < scores[worst]) {
          worst = j;
        }
      }
    }

    int[] sorted() {
      Integer[] order = new Integer[count];
      for (int j = 0; j < count; j++) {
        order[j] = j;
      }
      java.util.Arrays.sort(order, (a, b) -> Float.compare(scores[b], scores[a]));
      int[] out = new int[count];
      for (int j = 0; j < count; j++) {
        out[j] = ids[order[j]];
      }
      return out;
    }
  }
}
