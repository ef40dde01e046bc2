package dev.jodo.kernel.memory.index;

import java.util.SplittableRandom;

/**
 * Deterministic clustered unit vectors, closer to sentence embeddings than uniform noise is.
 * Cluster centres are random, or drawn around a few broader topics so that neighbouring clusters
 * overlap; each point is its cluster's centre plus a spread along the cluster's own {@code rank}
 * random directions (scale {@code spread * r^-decay} for the r-th) plus isotropic noise, then
 * normalized. Vector {@code i} is a pure function of the seed and {@code i}, so the data set can be
 * regenerated rather than stored.
 */
final class SyntheticVectors {
  private static final int RANK = 16;
  private static final double SPREAD = 0.15;
  private static final double NOISE = 0.01;
  private static final long QUERY_STREAM = 0x5DEECE66DL;
  private final int rank;
  private final double spread;
  private final double noise;
  private final double decay;
  private final int dim;
  private final long seed;
  private final float[][] centres;
  private final float[][][] directions;

  SyntheticVectors(int dim, int clusters, long seed) {
    this(dim, clusters, seed, RANK, SPREAD, NOISE, 0, 0, 0);
  }

  SyntheticVectors(
      int dim,
      int clusters,
      long seed,
      int rank,
      double spread,
      double noise,
      double decay,
      int topics,
      double topicSpread) {
    this.dim = dim;
    this.seed = seed;
    this.rank = rank;
    this.spread = spread;
    this.noise = noise;
    this.decay = decay;
    SplittableRandom random = new SplittableRandom(seed);
    centres = new float[clusters][];
    directions = new float[clusters][rank][];
    float[][] topicCentres = new float[Math.max(topics, 1)][];
    for (int t = 0; t < topicCentres.length; t++) {
      topicCentres[t] = normalize(gaussian(random, 1.0));
    }
    for (int c = 0; c < clusters; c++) {
      float[] own = normalize(gaussian(random, 1.0));
      if (topics > 0) {
        float[] topic = topicCentres[c % topics];
        for (int d = 0; d < dim; d++) {
          own[d] = (float) (topic[d] + topicSpread * own[d]);
        }
      }
      centres[c] = normalize(own);
      for (int r = 0; r < rank; r++) {
        directions[c][r] = normalize(gaussian(random, 1.0));
      }
    }
  }

  int dim() {
    return dim;
  }

  /** The {@code i}-th vector of the data set, unit length. */
  float[] vector(long i) {
    return point(rng(i));
  }

  /** The cluster vector {@code i} belongs to. */
  int cluster(long i) {
    return rng(i).nextInt(centres.length);
  }

  /** A query from the same distribution as the data, but not one of its points. */
  float[] query(long q) {
    return point(rng(q ^ QUERY_STREAM ^ Long.MIN_VALUE));
  }

  /** The cluster query {@code q} was drawn from. */
  int queryCluster(long q) {
    return rng(q ^ QUERY_STREAM ^ Long.MIN_VALUE).nextInt(centres.length);
  }

  private SplittableRandom rng(long i) {
    return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L + 1);
  }

  private float[] point(SplittableRandom random) {
    int c = random.nextInt(centres.length);
    double[] v = new double[dim];
    float[] centre = centres[c];
    for (int d = 0; d < dim; d++) {
      v[d] = centre[d] + noise * random.nextGaussian();
    }
    for (int r = 0; r < rank; r++) {
      double weight = spread * Math.pow(r + 1, -decay) * random.nextGaussian();
      float[] direction = directions[c][r];
      for (int d = 0; d < dim; d++) {
        v[d] += weight * direction[d];
      }
    }
    double norm = 0;
    for (double x : v) {
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    float[] out = new float[dim];
    for (int d = 0; d < dim; d++) {
      out[d] = (float) (v[d] / norm);
    }
    return out;
  }

  private float[] gaussian(SplittableRandom random, double scale) {
    float[] v = new float[dim];
    for (int d = 0; d < dim; d++) {
      v[d] = (float) (scale * random.nextGaussian());
    }
    return v;
  }

  private static float[] normalize(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    norm = Math.sqrt(norm);
    for (int d = 0; d < v.length; d++) {
      v[d] = (float) (v[d] / norm);
    }
    return v;
  }
}
