package dev.jodo.kernel.agents;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Advisory-lock supervision leases between two lease holders on one real database. */
class SupervisionLeasesTest {
  private static DatabaseTarget.External target;
  private static Database db;

  @BeforeAll
  static void database() {
    target = TestPostgres.freshDatabase(SupervisionLeasesTest.class);
    db = Database.open(target, null, "leases-test");
  }

  @AfterAll
  static void drop() {
    db.close();
    TestPostgres.drop(target);
  }

  @Test
  void oneHolderAtATimeAndAFailedStartFreesTheLockForTheOther() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    List<String> first = new CopyOnWriteArrayList<>();
    List<String> second = new CopyOnWriteArrayList<>();
    // The first holder fails to start supervising twice, then succeeds.
    SupervisionLeases a =
        new SupervisionLeases(
            () -> db.openDedicated("leases-a"),
            List.of("jodo"),
            Duration.ofMillis(200),
            listener(
                agent -> {
                  if (attempts.incrementAndGet() <= 2) {
                    throw new IllegalStateException("token store down");
                  }
                  first.add(agent);
                }));
    a.start();
    await(() -> first.contains("jodo"));
    assertThat(attempts.get()).isEqualTo(3);

    SupervisionLeases b =
        new SupervisionLeases(
            () -> db.openDedicated("leases-b"),
            List.of("jodo"),
            Duration.ofMillis(200),
            listener(second::add));
    b.start();
    Thread.sleep(600);
    assertThat(second).as("the lock is held by the first").isEmpty();
    a.close(); // its connection closes: the lock is free
    await(() -> second.contains("jodo"));
    b.close();
  }

  private static SupervisionLeases.Listener listener(java.util.function.Consumer<String> acquired) {
    return new SupervisionLeases.Listener() {
      @Override
      public void acquired(String agent) {
        acquired.accept(agent);
      }

      @Override
      public void lost(String agent) {}
    };
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(condition.getAsBoolean()).as("within 10 s").isTrue();
  }
}
