package dev.jodo.kernel.dashboard;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Answers wrong admin tokens with 429 once an address has sent {@value #MAX_FAILURES} of them
 * within {@link #WINDOW}, until the oldest leaves the window. It does not slow guessing: every try
 * is still checked, and the right token is let in even from a throttled address, so that a
 * neighbour behind the same proxy address cannot lock the owner out. The protection against
 * guessing is the token itself (32 random bytes when the kernel makes it); this keeps the log quiet
 * and tells a script that it is wrong. Per kernel and in memory.
 */
final class LoginThrottle {
  static final int MAX_FAILURES = 10;
  static final Duration WINDOW = Duration.ofMinutes(5);
  private static final int MAX_ADDRESSES = 10_000;

  private final Clock clock;
  private final Map<String, Deque<Instant>> failures = new ConcurrentHashMap<>();

  LoginThrottle(Clock clock) {
    this.clock = clock;
  }

  /**
   * Records a wrong token from {@code address}; answers how long the address must wait before its
   * next try when it has now used up its failures, in one step so that concurrent guesses cannot
   * slip between the count and the check.
   */
  Optional<Duration> failed(String address) {
    if (failures.size() >= MAX_ADDRESSES) {
      failures.clear(); // a flood of addresses: forget them rather than grow without bound
    }
    Deque<Instant> times = failures.computeIfAbsent(address, a -> new ArrayDeque<>());
    synchronized (times) {
      Instant now = clock.instant();
      prune(times, now);
      times.addLast(now);
      if (times.size() <= MAX_FAILURES) {
        return Optional.empty();
      }
      while (times.size() > MAX_FAILURES) {
        times.removeFirst(); // only the last MAX_FAILURES matter for the wait
      }
      return Optional.of(Duration.between(now, times.peekFirst().plus(WINDOW)));
    }
  }

  private static void prune(Deque<Instant> times, Instant now) {
    while (!times.isEmpty() && !times.peekFirst().plus(WINDOW).isAfter(now)) {
      times.removeFirst();
    }
  }
}
