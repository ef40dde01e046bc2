package dev.jodo.kernel.memory.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.memory.index.RankFusion.Candidate;
import java.util.List;
import org.junit.jupiter.api.Test;

class RankFusionTest {

  @Test
  void documentsInBothListsOutrankDocumentsInOne() {
    List<Candidate> vector = List.of(c(1, 0.9), c(2, 0.8), c(3, 0.7));
    List<Candidate> text = List.of(c(3, 0.7), c(4, 0.1));

    // 3: 1/63 + 1/61; 1: 1/61; 4: 1/62; 2: 1/62 (tie with 4, higher cosine first)
    assertThat(RankFusion.fuse(vector, text))
        .extracting(Candidate::doc)
        .containsExactly(3, 1, 2, 4);
  }

  @Test
  void equalScoresGoToTheHigherCosineThenTheLowerDoc() {
    assertThat(RankFusion.fuse(List.of(c(5, 0.2)), List.of(c(9, 0.4))))
        .extracting(Candidate::doc)
        .containsExactly(9, 5);
    assertThat(RankFusion.fuse(List.of(c(9, 0.4)), List.of(c(5, 0.4))))
        .extracting(Candidate::doc)
        .containsExactly(5, 9);
  }

  private static Candidate c(int doc, double cosine) {
    return new Candidate(doc, cosine);
  }
}
