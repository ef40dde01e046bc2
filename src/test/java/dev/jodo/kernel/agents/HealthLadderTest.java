package dev.jodo.kernel.agents;

import static dev.jodo.kernel.agents.HealthLadder.Step.HEALTHY;
import static dev.jodo.kernel.agents.HealthLadder.Step.REBIRTH;
import static dev.jodo.kernel.agents.HealthLadder.Step.RECOVERED;
import static dev.jodo.kernel.agents.HealthLadder.Step.RESTART;
import static dev.jodo.kernel.agents.HealthLadder.Step.ROLLBACK;
import static dev.jodo.kernel.agents.HealthLadder.Step.WARN;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthLadderTest {
  @Test
  void failuresEscalateAtThreeSixAndNine() {
    HealthLadder ladder = new HealthLadder();
    assertThat(checks(ladder, false, 9))
        .containsExactly(WARN, WARN, RESTART, WARN, WARN, ROLLBACK, WARN, WARN, REBIRTH);
    // The reborn agent gets the whole ladder again.
    assertThat(ladder.failures()).isZero();
    assertThat(checks(ladder, false, 3)).containsExactly(WARN, WARN, RESTART);
  }

  @Test
  void anyHealthyCheckResetsTheCount() {
    HealthLadder ladder = new HealthLadder();
    assertThat(ladder.checked(true)).isEqualTo(HEALTHY);
    assertThat(checks(ladder, false, 5)).containsExactly(WARN, WARN, RESTART, WARN, WARN);
    assertThat(ladder.checked(true)).isEqualTo(RECOVERED);
    assertThat(ladder.checked(true)).isEqualTo(HEALTHY);
    // Counting starts over: the 6th failure since the recovery is not the 6th ever.
    assertThat(checks(ladder, false, 3)).containsExactly(WARN, WARN, RESTART);
    assertThat(ladder.failures()).isEqualTo(3);
  }

  private static List<HealthLadder.Step> checks(HealthLadder ladder, boolean healthy, int n) {
    List<HealthLadder.Step> steps = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      steps.add(ladder.checked(healthy));
    }
    return steps;
  }
}
