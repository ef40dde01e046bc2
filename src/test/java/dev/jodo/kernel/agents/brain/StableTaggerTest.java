package dev.jodo.kernel.agents.brain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.agents.brain.Brain.Head;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StableTaggerTest {
  private static final Instant T0 = Instant.parse("2026-02-18T14:00:00Z");
  private static final Duration TICK = Duration.ofSeconds(10);

  private final StableTagger tagger = new StableTagger(StableTagger.HEALTHY_FOR);

  @Test
  void aChangeIsDueAfterExactlyFiveHealthyMinutesNotBefore() {
    tagger.headChanged(untagged("a1"));

    assertThat(healthyUntil(T0, T0.plus(Duration.ofMinutes(5)).minus(TICK))).isEmpty();
    assertThat(tagger.healthChecked(T0.plus(Duration.ofMinutes(5)), true)).contains("a1");
  }

  @Test
  void aDueCommitIsHandedOutOnce() {
    tagger.headChanged(untagged("a1"));
    assertThat(healthyUntil(T0, T0.plus(Duration.ofMinutes(5)))).contains("a1");

    assertThat(healthyUntil(T0.plus(Duration.ofMinutes(6)), T0.plus(Duration.ofMinutes(20))))
        .isEmpty();
    tagger.headChanged(untagged("a1")); // the same HEAD seen again, its tag not yet read back
    assertThat(healthyUntil(T0.plus(Duration.ofMinutes(21)), T0.plus(Duration.ofMinutes(30))))
        .isEmpty();
  }

  @Test
  void returningToACommitAlreadyHandedOutDoesNotTagItAgain() {
    tagger.headChanged(untagged("a1"));
    assertThat(healthyUntil(T0, T0.plus(Duration.ofMinutes(5)))).contains("a1");
    tagger.headChanged(untagged("b2"));
    tagger.headChanged(untagged("a1")); // rolled back by hash

    assertThat(healthyUntil(T0.plus(Duration.ofMinutes(6)), T0.plus(Duration.ofMinutes(20))))
        .isEmpty();
  }

  @Test
  void aFailureRestartsTheWait() {
    tagger.headChanged(untagged("a1"));
    assertThat(healthyUntil(T0, T0.plus(Duration.ofMinutes(4)))).isEmpty();
    Instant failed = T0.plus(Duration.ofMinutes(4)).plus(TICK);
    assertThat(tagger.healthChecked(failed, false)).isEmpty();

    Instant healthyAgain = failed.plus(TICK);
    Instant due = healthyAgain.plus(Duration.ofMinutes(5));
    assertThat(healthyUntil(healthyAgain, due.minus(TICK))).isEmpty();
    assertThat(tagger.healthChecked(due, true)).contains("a1");
  }

  @Test
  void theWaitStartsAtTheFirstHealthyCheckAfterTheChange() {
    assertThat(tagger.healthChecked(T0, true)).isEmpty(); // nothing to wait for yet
    Instant changed = T0.plus(Duration.ofMinutes(3));
    tagger.headChanged(untagged("a1"));
    assertThat(tagger.healthChecked(changed, false)).isEmpty(); // restarting after the change

    Instant up = changed.plus(Duration.ofMinutes(1));
    assertThat(healthyUntil(up, up.plus(Duration.ofMinutes(5)).minus(TICK))).isEmpty();
    assertThat(tagger.healthChecked(up.plus(Duration.ofMinutes(5)), true)).contains("a1");
  }

  @Test
  void aNewChangeDuringTheWaitReplacesTheOldOne() {
    tagger.headChanged(untagged("a1"));
    assertThat(healthyUntil(T0, T0.plus(Duration.ofMinutes(3)))).isEmpty();
    tagger.headChanged(untagged("b2"));

    Instant next = T0.plus(Duration.ofMinutes(3)).plus(TICK);
    assertThat(healthyUntil(next, next.plus(Duration.ofMinutes(5)).minus(TICK))).isEmpty();
    assertThat(tagger.healthChecked(next.plus(Duration.ofMinutes(5)), true)).contains("b2");
  }

  @Test
  void aCommitThatHasAStableTagIsNeverDue() {
    tagger.headChanged(new Head("a1", Optional.of("stable-v3")));

    assertThat(healthyUntil(T0, T0.plus(Duration.ofMinutes(30)))).isEmpty();
    assertThat(tagger.pending()).isEmpty();
  }

  @Test
  void aFailedTaggingIsDueAgainAfterANewWait() {
    tagger.headChanged(untagged("a1"));
    assertThat(healthyUntil(T0, T0.plus(Duration.ofMinutes(5)))).contains("a1");

    tagger.retry("a1");

    Instant again = T0.plus(Duration.ofMinutes(6));
    assertThat(healthyUntil(again, again.plus(Duration.ofMinutes(5)).minus(TICK))).isEmpty();
    assertThat(tagger.healthChecked(again.plus(Duration.ofMinutes(5)), true)).contains("a1");
  }

  /** Healthy checks every {@link #TICK} from {@code from} through {@code to}; what came due. */
  private Optional<String> healthyUntil(Instant from, Instant to) {
    Optional<String> due = Optional.empty();
    for (Instant at = from; !at.isAfter(to); at = at.plus(TICK)) {
      Optional<String> now = tagger.healthChecked(at, true);
      if (now.isPresent()) {
        assertThat(due).as("due twice, again at %s", at).isEmpty();
        due = now;
      }
    }
    return due;
  }

  private static Head untagged(String hash) {
    return new Head(hash, Optional.empty());
  }
}
