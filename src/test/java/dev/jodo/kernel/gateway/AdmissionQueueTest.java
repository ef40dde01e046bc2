package dev.jodo.kernel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AdmissionQueueTest {

  @Test
  void fullQueueAdmitsByPriorityThenArrival() throws Exception {
    AdmissionQueue queue = new AdmissionQueue(1);
    AdmissionQueue.Slot held = queue.acquire(Priority.NORMAL, Duration.ofSeconds(1));
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    List<Thread> threads = new ArrayList<>();
    Priority[] arrivals = {
      Priority.BATCH,
      Priority.NORMAL,
      Priority.REALTIME,
      Priority.BATCH,
      Priority.REPAIR,
      Priority.NORMAL
    };
    for (int i = 0; i < arrivals.length; i++) {
      Priority priority = arrivals[i];
      String name = priority.wire() + "#" + i;
      CountDownLatch queued = new CountDownLatch(1);
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    queued.countDown();
                    try {
                      AdmissionQueue.Slot slot = queue.acquire(priority, Duration.ofSeconds(10));
                      order.add(name);
                      slot.close();
                    } catch (Exception e) {
                      order.add("error " + e);
                    }
                  }));
      queued.await();
      // Make arrival order deterministic: wait until this waiter is in the queue.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (queue.waiting() < i + 1 && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
    }
    assertThat(queue.waiting()).isEqualTo(6);
    held.close();
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(order)
        .containsExactly("repair#4", "realtime#2", "normal#1", "normal#5", "batch#0", "batch#3");
    assertThat(queue.inUse()).isZero();
  }

  @Test
  void waiterGivesUpAfterTheQueueTimeout() throws Exception {
    AdmissionQueue queue = new AdmissionQueue(2);
    AdmissionQueue.Slot a = queue.acquire(Priority.NORMAL, Duration.ofSeconds(1));
    AdmissionQueue.Slot b = queue.acquire(Priority.NORMAL, Duration.ofSeconds(1));
    assertThatThrownBy(() -> queue.acquire(Priority.REPAIR, Duration.ofMillis(100)))
        .isInstanceOf(AdmissionQueue.QueueTimeout.class)
        .hasMessage("all 2 slots stayed busy for 100 ms with 0 more waiting");
    assertThat(queue.waiting()).isZero();
    a.close();
    a.close(); // closing twice frees one slot only
    assertThat(queue.inUse()).isEqualTo(1);
    b.close();
    assertThat(queue.inUse()).isZero();
  }
}
