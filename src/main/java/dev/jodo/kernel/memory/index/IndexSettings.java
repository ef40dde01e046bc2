package dev.jodo.kernel.memory.index;

/**
 * How the memory index lays out and searches vectors. {@link #DEFAULTS} is what the kernel uses;
 * the other values exist so the benchmark can compare layouts on the same data.
 *
 * @param vectors how vectors are stored in the HNSW graph
 * @param maxConn HNSW neighbours per node ({@code M})
 * @param beamWidth HNSW candidate queue size while building the graph
 * @param minCandidates the least number of graph candidates a vector search collects before it
 *     re-ranks them by exact cosine and keeps the top {@code limit}
 * @param ramBufferMb indexing buffer; a bigger one makes fewer, larger segments during a rebuild
 * @param mergeWorkers threads that build one merged HNSW graph together
 */
record IndexSettings(
    VectorLayout vectors,
    int maxConn,
    int beamWidth,
    int minCandidates,
    double ramBufferMb,
    int mergeWorkers) {

  /** Chosen from bench/memory (see docs/performance.md, "Memory index"). */
  static final IndexSettings DEFAULTS =
      new IndexSettings(
          VectorLayout.INT8,
          16,
          100,
          100,
          64,
          Math.min(4, Runtime.getRuntime().availableProcessors()));

  enum VectorLayout {
    /** Graph over 8-bit scalar-quantized copies; the float vectors are kept for exact cosine. */
    INT8,
    /** Graph over the float vectors themselves. */
    FLOAT32
  }

  IndexSettings {
    if (vectors == null) {
      throw new IllegalArgumentException("vectors must be INT8 or FLOAT32, not null");
    }
    if (maxConn < 2 || maxConn > 512) {
      throw new IllegalArgumentException("maxConn must be in [2, 512]: " + maxConn);
    }
    if (beamWidth < 1 || beamWidth > 3200) {
      throw new IllegalArgumentException("beamWidth must be in [1, 3200]: " + beamWidth);
    }
    if (minCandidates < 1 || minCandidates > 10_000) {
      throw new IllegalArgumentException("minCandidates must be in [1, 10000]: " + minCandidates);
    }
    if (mergeWorkers < 1 || mergeWorkers > 64) {
      throw new IllegalArgumentException("mergeWorkers must be in [1, 64]: " + mergeWorkers);
    }
    if (!(ramBufferMb >= 1 && ramBufferMb <= 2048)) {
      throw new IllegalArgumentException("ramBufferMb must be in [1, 2048]: " + ramBufferMb);
    }
  }

  IndexSettings withVectors(VectorLayout layout) {
    return new IndexSettings(layout, maxConn, beamWidth, minCandidates, ramBufferMb, mergeWorkers);
  }

  IndexSettings withGraph(int newMaxConn, int newBeamWidth) {
    return new IndexSettings(
        vectors, newMaxConn, newBeamWidth, minCandidates, ramBufferMb, mergeWorkers);
  }

  IndexSettings withMinCandidates(int candidates) {
    return new IndexSettings(vectors, maxConn, beamWidth, candidates, ramBufferMb, mergeWorkers);
  }

  IndexSettings withMergeWorkers(int workers) {
    return new IndexSettings(vectors, maxConn, beamWidth, minCandidates, ramBufferMb, workers);
  }

  IndexSettings withRamBufferMb(double mb) {
    return new IndexSettings(vectors, maxConn, beamWidth, minCandidates, mb, mergeWorkers);
  }
}
