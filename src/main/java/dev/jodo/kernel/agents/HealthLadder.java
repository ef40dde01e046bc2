package dev.jodo.kernel.agents;

/**
 * Seed 000's health-check escalation for one agent, as pure logic: fed each health check's outcome,
 * it says what the supervisor must do. Failures 1-2 warn; the 3rd restarts the agent, the 6th rolls
 * it back to its newest stable tag, the 9th rebirths it. Any healthy check resets the count, and so
 * does a rebirth: the reborn agent gets the whole ladder again.
 *
 * <pre>{@code
 * switch (ladder.checked(ok)) {
 *   case RESTART -> restart();
 *   case ROLLBACK -> rollbackOrRebirth();
 *   ...
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one supervisor thread owns it.
 */
public final class HealthLadder {
  static final int RESTART_AT = 3;
  static final int ROLLBACK_AT = 6;
  static final int REBIRTH_AT = 9;

  /** What a check calls for. */
  public enum Step {
    /** Healthy, as before. */
    HEALTHY,
    /** Healthy after failures: the count is reset; worth a milestone. */
    RECOVERED,
    /** A failure below the next escalation: log it and wait. */
    WARN,
    RESTART,
    /** Roll back to the newest stable tag; with none, go on to {@link #REBIRTH} at once. */
    ROLLBACK,
    REBIRTH
  }

  private int failures;

  public Step checked(boolean healthy) {
    if (healthy) {
      boolean recovered = failures > 0;
      failures = 0;
      return recovered ? Step.RECOVERED : Step.HEALTHY;
    }
    failures++;
    return switch (failures) {
      case RESTART_AT -> Step.RESTART;
      case ROLLBACK_AT -> Step.ROLLBACK;
      case REBIRTH_AT -> {
        failures = 0;
        yield Step.REBIRTH;
      }
      default -> Step.WARN;
    };
  }

  /** Starts over, as after a restart or rebirth someone asked for. */
  public void reset() {
    failures = 0;
  }

  /** Consecutive failures so far. */
  public int failures() {
    return failures;
  }
}
