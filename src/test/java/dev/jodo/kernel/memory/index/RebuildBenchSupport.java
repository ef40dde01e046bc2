package dev.jodo.kernel.memory.index;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.lucene.util.VectorUtil;

/**
 * What {@code dev.jodo.kernel.memory.MemoryRebuildBench} (another package) needs from this one: the
 * index benchmark's data set ({@link BenchData}, so both benchmarks index the same memories) and a
 * look at the index's merges and segments.
 */
public final class RebuildBenchSupport {
  public static final String NAMESPACE = BenchData.NAMESPACE;
  public static final String MODEL = BenchData.MODEL;
  public static final int DIM = BenchData.DIM;
  public static final int K = BenchData.K;

  private final BenchData data;

  public RebuildBenchSupport(int size) {
    this.data = new BenchData(size);
  }

  /** Memory {@code i}'s embedding, unit length; a pure function of {@code i}. */
  public float[] vector(long i) {
    return data.vectors.vector(i);
  }

  public String content(long i) {
    return data.content(i);
  }

  public static List<String> tags(long i) {
    return BenchData.tags(i);
  }

  /** As {@link BenchData#change}: one second apart from November 2023. */
  public static Instant createdAt(long i) {
    return Instant.EPOCH.plusSeconds(1_700_000_000L + i);
  }

  /** Query {@code q}, as in the index benchmark's recall measurement (unfiltered). */
  public MemoryIndex.Query query(long q) {
    return data.query(q, 0, K, MemoryIndex.Mode.VECTOR);
  }

  /**
   * The exact top-{@link #K} memory numbers (best first) of each of the first {@code queries}
   * queries over memories {@code 0..size-1}, by brute force on both cores. Vectors are regenerated
   * as they are scanned rather than held, so this needs no heap for the data set.
   */
  public int[][] groundTruth(int queries) throws Exception {
    float[][] targets = new float[queries][];
    for (int q = 0; q < queries; q++) {
      targets[q] = data.vectors.query(q);
    }
    int threads = 2;
    List<Future<BenchData.TopK[]>> parts = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      for (int t = 0; t < threads; t++) {
        int part = t;
        parts.add(
            pool.submit(
                () -> {
                  BenchData.TopK[] best = new BenchData.TopK[queries];
                  for (int q = 0; q < queries; q++) {
                    best[q] = new BenchData.TopK(K);
                  }
                  for (int i = part; i < data.size; i += threads) {
                    float[] v = data.vectors.vector(i);
                    for (int q = 0; q < queries; q++) {
                      best[q].offer(i, VectorUtil.dotProduct(targets[q], v));
                    }
                  }
                  return best;
                }));
      }
    }
    int[][] truth = new int[queries][];
    BenchData.TopK[] merged = new BenchData.TopK[queries];
    for (int q = 0; q < queries; q++) {
      merged[q] = new BenchData.TopK(K);
    }
    for (Future<BenchData.TopK[]> part : parts) {
      BenchData.TopK[] best = part.get();
      for (int q = 0; q < queries; q++) {
        best[q].into(merged[q]);
      }
    }
    for (int q = 0; q < queries; q++) {
      truth[q] = merged[q].sorted();
    }
    return truth;
  }

  /** Waits until the index has no merge running or pending (as the index benchmark does). */
  public static void awaitMerges(MemoryIndex index) {
    try {
      index.store().awaitMerges();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for merges", e);
    }
  }

  /** Segments in the index's current searcher. */
  public static int segmentCount(MemoryIndex index) {
    return index.store().segmentCount();
  }
}
