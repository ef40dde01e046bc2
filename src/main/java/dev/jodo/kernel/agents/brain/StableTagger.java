package dev.jodo.kernel.agents.brain;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Decides when a change has proven itself: once HEAD moves to a commit without a stable tag, and
 * the agent then stays healthy for {@link #HEALTHY_FOR} without a single failed check, the commit
 * is due for a {@code stable-vN} tag, once. A failed check restarts the wait; a commit that already
 * has a stable tag is never due.
 *
 * <p>Pure bookkeeping, no threads or timers: the supervisor feeds it on each health tick and does
 * the tagging itself. It is used from the supervisor's one thread and is not thread-safe.
 *
 * <pre>{@code
 * tagger.headChanged(brain.head().orElseThrow());        // cheap to call on every tick
 * tagger.healthChecked(clock.instant(), ok).ifPresent(brain::tagStable);
 * }</pre>
 *
 * <p>The wait starts at the first healthy check after the change (or after the last failure), and
 * health is taken as continuous between two healthy checks. Should tagging fail, calling {@link
 * #retry} with the commit starts its wait again.
 */
public final class StableTagger {
  /** Seed 000: "healthy for 5+ minutes after a self-modification". */
  public static final Duration HEALTHY_FOR = Duration.ofMinutes(5);

  private final Duration healthyFor;
  private final Set<String> handedOut = new HashSet<>();
  private String head;
  private String pending;
  private Instant healthySince;

  public StableTagger(Duration healthyFor) {
    if (healthyFor == null || healthyFor.isNegative()) {
      throw new IllegalArgumentException("healthyFor must be zero or positive: " + healthyFor);
    }
    this.healthyFor = healthyFor;
  }

  /**
   * The brain's HEAD as it is now. A HEAD seen before changes nothing, so the supervisor may pass
   * {@link Brain#head()} on every tick as well as after each commit, rollback or rebirth.
   */
  public void headChanged(Brain.Head now) {
    Objects.requireNonNull(now, "now");
    if (now.hash().equals(head)) {
      return;
    }
    head = now.hash();
    boolean tagged = now.stableTag().isPresent() || handedOut.contains(now.hash());
    pending = tagged ? null : now.hash();
    healthySince = null;
  }

  /**
   * One health check's outcome.
   *
   * @return the commit to tag now, if its healthy time is up; each commit is returned only once
   */
  public Optional<String> healthChecked(Instant at, boolean healthy) {
    Objects.requireNonNull(at, "at");
    if (!healthy) {
      healthySince = null;
      return Optional.empty();
    }
    if (pending == null) {
      return Optional.empty();
    }
    if (healthySince == null) {
      healthySince = at;
    }
    if (Duration.between(healthySince, at).compareTo(healthyFor) < 0) {
      return Optional.empty();
    }
    String due = pending;
    handedOut.add(due);
    pending = null;
    healthySince = null;
    return Optional.of(due);
  }

  /** Tagging {@code hash} failed: if it is still HEAD, it is due again after a new healthy wait. */
  public void retry(String hash) {
    handedOut.remove(hash);
    if (hash.equals(head)) {
      pending = hash;
      healthySince = null;
    }
  }

  /** The commit waiting for its healthy time, if any. */
  public Optional<String> pending() {
    return Optional.ofNullable(pending);
  }
}
