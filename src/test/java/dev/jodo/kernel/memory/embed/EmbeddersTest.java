package dev.jodo.kernel.memory.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class EmbeddersTest {
  @Test
  void cosineComparesDirectionsNotLengths() {
    assertThat(Embedders.cosine(new float[] {1, 0}, new float[] {3, 0})).isEqualTo(1.0);
    assertThat(Embedders.cosine(new float[] {1, 0}, new float[] {0, 2})).isEqualTo(0.0);
    assertThat(Embedders.cosine(new float[] {1, 1}, new float[] {-1, -1})).isEqualTo(-1.0);
    assertThat(Embedders.cosine(new float[] {1, 2, 3}, new float[] {3, 2, 1}))
        .isCloseTo(10.0 / 14.0, within(1e-12));
  }

  @Test
  void cosineOfAnAllZeroVectorIsZero() {
    assertThat(Embedders.cosine(new float[] {0, 0}, new float[] {1, 0})).isEqualTo(0.0);
  }

  @Test
  void cosineRefusesVectorsOfDifferentModels() {
    assertThatThrownBy(() -> Embedders.cosine(new float[384], new float[1536]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot compare vectors of 384 and 1536 dimensions");
  }

  @Test
  void normalizedScalesToUnitLengthAndLeavesZeroAlone() {
    assertThat(Embedders.normalized(new float[] {3, 4})).containsExactly(0.6f, 0.8f);
    float[] zero = {0, 0};
    assertThat(Embedders.normalized(zero)).isSameAs(zero);
  }
}
