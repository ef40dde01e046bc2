package dev.jodo.kernel.gateway.provider;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Closes a response body that has been blocked in a read for longer than the idle timeout. {@code
 * HttpRequest.timeout} only covers the wait for the response headers; a provider that sends headers
 * and then stalls would otherwise hold the calling thread forever. Closing the body unblocks the
 * read with an {@link IOException}; {@link #fired()} then tells a stall from a broken connection.
 * Arm before each read and disarm after it, so time spent in our own listener does not count
 * against the provider.
 */
final class IdleWatchdog implements AutoCloseable {
  private final Closeable body;
  private final long timeoutNanos;
  private final Thread thread;
  private volatile long deadline;
  private volatile boolean armed;
  private volatile boolean fired;
  private volatile boolean closed;

  IdleWatchdog(Closeable body, Duration timeout) {
    this.body = body;
    this.timeoutNanos = timeout.toNanos();
    this.thread = Thread.ofVirtual().name("provider-idle-watchdog").start(this::watch);
  }

  void arm() {
    deadline = System.nanoTime() + timeoutNanos;
    armed = true;
  }

  void disarm() {
    armed = false;
  }

  boolean fired() {
    return fired;
  }

  private void watch() {
    while (!closed) {
      if (!armed) {
        LockSupport.parkNanos(this, timeoutNanos);
        continue;
      }
      long armedDeadline = deadline;
      long remaining = armedDeadline - System.nanoTime();
      if (remaining > 0) {
        LockSupport.parkNanos(this, remaining);
      } else if (armed && deadline == armedDeadline && !closed) {
        fired = true;
        try {
          body.close();
        } catch (IOException ignored) {
          // The reader sees the closed stream either way.
        }
        return;
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
  }
}
