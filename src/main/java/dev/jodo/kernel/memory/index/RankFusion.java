package dev.jodo.kernel.memory.index;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reciprocal-rank fusion: each list adds {@code 1 / (K + rank)} for every document it ranks. */
final class RankFusion {
  /** The constant from Cormack et al. (2009); it damps the weight of the very first ranks. */
  static final int K = 60;

  /** A document (top-level id) with its exact cosine to the query. */
  record Candidate(int doc, double cosine) {}

  private RankFusion() {}

  /**
   * Fuses rankings, best first. Ties (equal fused score) go to the higher cosine, then the lower
   * doc id, so a result order never depends on hash order.
   */
  static List<Candidate> fuse(List<Candidate> first, List<Candidate> second) {
    Map<Integer, Double> scores = new LinkedHashMap<>();
    Map<Integer, Candidate> byDoc = new LinkedHashMap<>();
    for (List<Candidate> ranking : List.of(first, second)) {
      for (int rank = 0; rank < ranking.size(); rank++) {
        Candidate candidate = ranking.get(rank);
        scores.merge(candidate.doc(), 1.0 / (K + rank + 1), Double::sum);
        byDoc.putIfAbsent(candidate.doc(), candidate);
      }
    }
    List<Candidate> fused = new ArrayList<>(byDoc.values());
    fused.sort(
        Comparator.comparingDouble((Candidate c) -> -scores.get(c.doc()))
            .thenComparingDouble(c -> -c.cosine())
            .thenComparingInt(Candidate::doc));
    return fused;
  }
}
