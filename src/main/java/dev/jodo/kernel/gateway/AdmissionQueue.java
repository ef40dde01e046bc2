package dev.jodo.kernel.gateway;

import java.time.Duration;
import java.util.PriorityQueue;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounds one provider's concurrent calls to {@code max_concurrency}. When all slots are taken,
 * callers wait in priority order (repair, realtime, normal, batch; first come first served within a
 * priority) for at most the queue timeout. A freed slot is handed straight to the next waiter, so a
 * newcomer can never overtake the queue.
 */
final class AdmissionQueue {
  private final ReentrantLock lock = new ReentrantLock();
  private final PriorityQueue<Waiter> waiters = new PriorityQueue<>();
  private final int capacity;
  private int inUse;
  private long sequence;

  private final class Waiter implements Comparable<Waiter> {
    final Priority priority;
    final long order = sequence++;
    final Condition signal = lock.newCondition();
    boolean granted;

    Waiter(Priority priority) {
      this.priority = priority;
    }

    @Override
    public int compareTo(Waiter other) {
      int byPriority = Integer.compare(priority.ordinal(), other.priority.ordinal());
      return byPriority != 0 ? byPriority : Long.compare(order, other.order);
    }
  }

  /** Thrown when no slot freed up within the queue timeout. */
  static final class QueueTimeout extends Exception {
    private static final long serialVersionUID = 1L;

    QueueTimeout(String message) {
      super(message);
    }
  }

  AdmissionQueue(int capacity) {
    this.capacity = capacity;
  }

  /** Waits for a slot; the returned handle gives it back when closed. */
  Slot acquire(Priority priority, Duration timeout) throws QueueTimeout, InterruptedException {
    lock.lock();
    try {
      if (inUse < capacity && waiters.isEmpty()) {
        inUse++;
        return new Slot();
      }
      Waiter waiter = new Waiter(priority);
      waiters.add(waiter);
      long remaining = timeout.toNanos();
      try {
        while (!waiter.granted) {
          if (remaining <= 0) {
            waiters.remove(waiter);
            throw new QueueTimeout(
                "all "
                    + capacity
                    + " slots stayed busy for "
                    + timeout.toMillis()
                    + " ms with "
                    + waiters.size()
                    + " more waiting");
          }
          remaining = waiter.signal.awaitNanos(remaining);
        }
      } catch (InterruptedException e) {
        if (waiter.granted) {
          release();
        } else {
          waiters.remove(waiter);
        }
        throw e;
      }
      return new Slot();
    } finally {
      lock.unlock();
    }
  }

  int waiting() {
    lock.lock();
    try {
      return waiters.size();
    } finally {
      lock.unlock();
    }
  }

  int inUse() {
    lock.lock();
    try {
      return inUse;
    } finally {
      lock.unlock();
    }
  }

  private void release() {
    lock.lock();
    try {
      Waiter next = waiters.poll();
      if (next != null) {
        next.granted = true; // the slot passes on without ever being free
        next.signal.signal();
      } else {
        inUse--;
      }
    } finally {
      lock.unlock();
    }
  }

  /** One held slot. */
  final class Slot implements AutoCloseable {
    private boolean released;

    @Override
    public void close() {
      if (!released) {
        released = true;
        release();
      }
    }
  }
}
