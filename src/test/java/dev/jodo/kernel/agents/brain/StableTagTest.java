package dev.jodo.kernel.agents.brain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StableTagTest {

  @Test
  void versionsAreNumbers() {
    assertThat(StableTag.parse("stable-v1")).contains(new StableTag(1));
    assertThat(StableTag.parse("stable-v10")).contains(new StableTag(10));
    assertThat(new StableTag(10)).isGreaterThan(new StableTag(9));
    assertThat(new StableTag(10).name()).isEqualTo("stable-v10");
  }

  @Test
  void namesThatOnlyLookStableAreNot() {
    for (String name :
        List.of(
            "stable-v0",
            "stable-v01",
            "stable-v",
            "stable-vx",
            "stable-v1-rc",
            "stable-v1234567890",
            "v1",
            "stable-1")) {
      assertThat(StableTag.parse(name)).as(name).isEmpty();
    }
  }

  @Test
  void theNextTagFollowsTheHighestNumber() {
    assertThat(StableTag.next(List.of())).isEqualTo(new StableTag(1));
    assertThat(StableTag.next(List.of(new StableTag(9), new StableTag(2))))
        .isEqualTo(new StableTag(10));
  }
}
