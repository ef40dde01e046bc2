package dev.jodo.kernel.memory;

import dev.jodo.kernel.memory.index.MemoryIndex;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this kernel's Lucene index equal to Postgres by following the memories change feed: on a
 * nudge after a local write, and every {@link #POLL} for other kernels' writes. On start it catches
 * up from the index's committed watermark, so a crash between a Postgres commit and the index
 * update loses nothing. One thread applies; searches run concurrently.
 */
final class IndexFollower implements AutoCloseable {
  static final Duration POLL = Duration.ofMillis(500);
  private static final Duration COMMIT_EVERY = Duration.ofSeconds(5);
  private static final int BATCH = 1000;
  private static final Logger log = LoggerFactory.getLogger(IndexFollower.class);

  private final MemoryStore store;
  private final MemoryIndex index;
  private final Thread thread;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private final Condition applied = lock.newCondition();
  private volatile boolean running = true;
  private boolean nudged;
  private volatile boolean rebuildRequested;
  private long appliedSeq;

  IndexFollower(MemoryStore store, MemoryIndex index) {
    this.store = store;
    this.index = index;
    this.appliedSeq = index.watermark();
    this.thread = Thread.ofPlatform().daemon().name("jodo-memory-index").start(this::run);
  }

  /** Makes the follower look at the feed now (after a local write). */
  void nudge() {
    lock.lock();
    try {
      nudged = true;
      wake.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Empties the index and replays the whole feed (on this thread, so no apply races it). */
  void rebuild() {
    rebuildRequested = true;
    nudge();
  }

  /** Waits until every change up to {@code seq} is searchable here; false on timeout. */
  boolean awaitApplied(long seq, Duration timeout) throws InterruptedException {
    long remaining = timeout.toNanos();
    lock.lock();
    try {
      nudged = true;
      wake.signalAll();
      while (appliedSeq < seq) {
        if (remaining <= 0) {
          return false;
        }
        remaining = applied.awaitNanos(remaining);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  long appliedSeq() {
    lock.lock();
    try {
      return appliedSeq;
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    long lastCommit = System.nanoTime();
    boolean dirty = false;
    long start = index.watermark();
    long target = -1;
    while (running) {
      try {
        if (rebuildRequested) {
          rebuildRequested = false;
          index.clear();
          publish(0);
          start = 0;
          target = -1;
          log.info("memory index cleared; rebuilding from the change feed");
        }
        List<MemoryChange> changes = store.changesAfter(index.watermark(), BATCH);
        if (!changes.isEmpty()) {
          index.apply(changes);
          dirty = true;
          long now = changes.get(changes.size() - 1).seq();
          if (target < 0 && changes.size() == BATCH) {
            target = store.lastSeq();
            log.info("memory index catching up: changes {} to {}", start, target);
          }
          if (target > 0 && now >= target) {
            log.info("memory index caught up at change {}", now);
            target = 0;
          }
          publish(now);
        }
        if (dirty && System.nanoTime() - lastCommit > COMMIT_EVERY.toNanos()) {
          index.commit();
          dirty = false;
          lastCommit = System.nanoTime();
        }
        if (changes.size() < BATCH) {
          sleepUntilNudged();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        if (!running) {
          return;
        }
        log.warn("memory index follower: {}; retrying", e.toString());
        try {
          Thread.sleep(POLL.toMillis());
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
  }

  private void publish(long seq) {
    lock.lock();
    try {
      appliedSeq = seq;
      applied.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void sleepUntilNudged() throws InterruptedException {
    lock.lock();
    try {
      if (!nudged) {
        wake.await(POLL.toMillis(), TimeUnit.MILLISECONDS);
      }
      nudged = false;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    // No interrupt: Lucene's IndexWriter must never see one mid-write (it closes itself).
    running = false;
    nudge();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    index.commit();
  }
}
