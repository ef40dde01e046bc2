package dev.jodo.kernel.gateway;

import static dev.jodo.kernel.gateway.GatewayFixtures.candidate;
import static dev.jodo.kernel.gateway.GatewayFixtures.model;
import static dev.jodo.kernel.gateway.GatewayFixtures.provider;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.config.ProviderType;
import dev.jodo.kernel.platform.config.QuotaConfig;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.testing.TestPostgres;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Budget leases ({@code V5__budget_leases.sql}, {@link BudgetLeases}) on a real PostgreSQL, with
 * two ledgers on their own connection pools standing for two kernels. Throughout, the ledger's
 * invariant is checked: a provider's month spend is its budget_usage rows plus what its open leases
 * hold, and never more than the budget.
 */
class BudgetLeasesTest {
  private static DatabaseTarget.External target;
  private static Database kernelA;
  private static Database kernelB;
  private static BudgetLedger ledgerA;
  private static BudgetLedger ledgerB;
  private static final ProviderConfig CLAUDE =
      provider(
          "claude",
          ProviderType.ANTHROPIC,
          "1.00",
          "0",
          model("sonnet", "3.00", "15.00", 9, "code", "chat"));
  private static final QuotaConfig.Limits NONE = QuotaConfig.Limits.NONE;
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");

  @BeforeAll
  static void databases() {
    target = TestPostgres.freshDatabase(BudgetLeasesTest.class);
    kernelA = Database.open(target, null, "a");
    kernelA.migrate(Database.KERNEL_MIGRATIONS);
    kernelB = Database.open(target, null, "b");
  }

  @AfterAll
  static void drop() {
    kernelA.close();
    kernelB.close();
    TestPostgres.drop(target);
  }

  /** Fresh kernels for each test: a lease lives in its kernel's memory. */
  @BeforeEach
  void kernels() throws Exception {
    sql("TRUNCATE budget_usage, budget_months, budget_leases, agent_requests");
    ledgerA = new BudgetLedger(kernelA.dataSource());
    ledgerB = new BudgetLedger(kernelB.dataSource());
  }

  @AfterEach
  void stop() {
    ledgerA.close();
    ledgerB.close();
  }

  @Test
  void callsWithoutLimitsAreLeasedOthersAndRepairsAreReserved() throws Exception {
    Candidate call = candidate(CLAUDE, "sonnet", "0.01", "1.00");
    QuotaConfig.Limits rpm =
        new QuotaConfig.Limits(
            OptionalLong.empty(), Optional.empty(), OptionalInt.of(100), OptionalLong.empty());
    assertThat(admit(ledgerA, call, NONE, Intent.CHAT).ticket())
        .isInstanceOf(BudgetLedger.Leased.class);
    assertThat(admit(ledgerA, call, rpm, Intent.CHAT).ticket())
        .isInstanceOf(BudgetLedger.Reservation.class);
    assertThat(admit(ledgerA, call, NONE, Intent.REPAIR).ticket())
        .isInstanceOf(BudgetLedger.Reservation.class);
    assertInvariant();
  }

  @Test
  void sixtyFourLeasedCallsSixTimesOverBudgetOnTwoKernelsAdmitExactlyTheAffordable()
      throws Exception {
    // 1.00 has room for fewer than 64 such calls: every grant is exact, one call's worst case.
    Candidate expensive = candidate(CLAUDE, "sonnet", "0.093750", "1.00");
    ExecutorService pool = Executors.newFixedThreadPool(64);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<BudgetLedger.Admission>> results = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      BudgetLedger ledger = i % 2 == 0 ? ledgerA : ledgerB;
      results.add(
          pool.submit(
              () -> {
                start.await();
                return ledger.admit(
                    "jodo",
                    NOW,
                    Intent.CHAT,
                    Optional.empty(),
                    100,
                    6000,
                    NONE,
                    List.of(expensive));
              }));
    }
    start.countDown();
    List<BudgetLedger.Admitted> admitted = new ArrayList<>();
    List<BudgetLedger> ledgers = new ArrayList<>();
    for (int i = 0; i < results.size(); i++) {
      if (results.get(i).get() instanceof BudgetLedger.Admitted a) {
        admitted.add(a);
        ledgers.add(i % 2 == 0 ? ledgerA : ledgerB);
      }
    }
    pool.shutdown();
    assertThat(admitted).hasSize(10); // 10 x 0.09375 = 0.9375 <= 1.00 < 11 x 0.09375
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0.937500");
    assertThat(sum("SELECT sum(granted - consumed) FROM budget_leases"))
        .isEqualByComparingTo("0.937500");
    assertInvariant();

    for (int i = 0; i < admitted.size(); i++) {
      settle(ledgers.get(i), admitted.get(i), expensive, "0.013650");
    }
    ledgerA.flush();
    ledgerB.flush();
    // Exact leases give back what each call left unspent as it settles.
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0.136500");
    assertThat(sum("SELECT leased FROM budget_months")).isEqualByComparingTo("0");
    assertThat(sum("SELECT count(*) FROM budget_usage WHERE status = 'settled'"))
        .isEqualByComparingTo("10");
    assertInvariant();
  }

  @Test
  void manyConcurrentCallsOnTwoKernelsStayWithinTheBudgetAndLeaveNothingHeld() throws Exception {
    // Room for 400 worst cases: leases take more than one call while there is room for 64 more.
    Candidate cheap = candidate(CLAUDE, "sonnet", "0.002500", "1.00");
    ExecutorService pool = Executors.newFixedThreadPool(32);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean running = new AtomicBoolean(true);
    List<String> violations = new ArrayList<>();
    Thread watcher =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (running.get()) {
                    String problem = invariantProblem();
                    if (problem != null) {
                      violations.add(problem);
                    }
                  }
                });
    List<Future<Integer>> results = new ArrayList<>();
    for (int worker = 0; worker < 32; worker++) {
      BudgetLedger ledger = worker % 2 == 0 ? ledgerA : ledgerB;
      results.add(
          pool.submit(
              () -> {
                start.await();
                int served = 0;
                for (int call = 0; call < 40; call++) {
                  if (ledger.admit(
                          "jodo", NOW, Intent.CHAT, Optional.empty(), 10, 150, NONE, List.of(cheap))
                      instanceof BudgetLedger.Admitted admitted) {
                    // A real call costs less than its worst case.
                    settle(ledger, admitted, cheap, "0.001000");
                    served++;
                  }
                }
                return served;
              }));
    }
    start.countDown();
    int served = 0;
    for (Future<Integer> result : results) {
      served += result.get();
    }
    pool.shutdown();
    ledgerA.flush();
    ledgerB.flush();
    running.set(false);
    watcher.join();

    assertThat(violations).isEmpty();
    // 1,280 calls asked for 3.2 budgets of worst cases but cost 1.28 budgets: the budget ran out.
    BigDecimal spent = sum("SELECT coalesce(sum(cost), 0) FROM budget_usage");
    assertThat(spent).isLessThanOrEqualTo(new BigDecimal("1.00"));
    assertThat(spent)
        .isEqualByComparingTo(new BigDecimal("0.001").multiply(new BigDecimal(served)));
    assertThat(sum("SELECT count(*) FROM budget_usage")).isEqualByComparingTo("" + served);
    assertThat(served).isGreaterThan(900);

    // What the leases still hold goes back; then nothing of the budget is lost: one kernel can
    // spend it to within one worst case.
    ledgerA.returnLeases();
    ledgerB.returnLeases();
    assertThat(sum("SELECT count(*) FROM budget_leases")).isEqualByComparingTo("0");
    assertThat(sum("SELECT leased FROM budget_months")).isEqualByComparingTo("0");
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo(spent);
    for (int call = 0; call < 1000; call++) {
      if (!(ledgerB.admit("jodo", NOW, Intent.CHAT, Optional.empty(), 10, 150, NONE, List.of(cheap))
          instanceof BudgetLedger.Admitted admitted)) {
        break;
      }
      settle(ledgerB, admitted, cheap, "0.001000");
    }
    ledgerB.returnLeases();
    BigDecimal total = sum("SELECT sum(cost) FROM budget_usage");
    assertThat(total).isLessThanOrEqualTo(new BigDecimal("1.00"));
    assertThat(total).isGreaterThan(new BigDecimal("0.9975"));
    assertInvariant();
  }

  @Test
  void aLeaseTakesRecentDemandOnlyWhileTheBudgetHasRoomForSixtyFourCalls() throws Exception {
    Candidate roomy = candidate(CLAUDE, "sonnet", "0.010000", "1.00");
    admit(ledgerA, roomy, NONE, Intent.CHAT);
    // One call's need and one more, the demand seen so far.
    assertThat(sum("SELECT granted FROM budget_leases")).isEqualByComparingTo("0.02");
    admit(ledgerA, roomy, NONE, Intent.CHAT);
    assertThat(sum("SELECT granted FROM budget_leases")).isEqualByComparingTo("0.02");
    admit(ledgerA, roomy, NONE, Intent.CHAT);
    // Two calls in the last second: the next grant is for the call plus those two.
    assertThat(sum("SELECT granted FROM budget_leases")).isEqualByComparingTo("0.05");

    ProviderConfig tight =
        provider("tight", ProviderType.OPENAI, "0.60", "0", model("m", "1", "1", 5, "chat"));
    Candidate near = candidate(tight, "m", "0.010000", "0.60");
    var first = admit(ledgerA, near, NONE, Intent.CHAT);
    admit(ledgerA, near, NONE, Intent.CHAT);
    // 0.60 has no room for 64 calls of 0.01: each grant is exactly one call.
    assertThat(sum("SELECT granted FROM budget_leases WHERE provider = 'tight'"))
        .isEqualByComparingTo("0.02");
    settle(ledgerA, first, near, "0.004000");
    ledgerA.flush();
    // What the settled call left unspent went back at once.
    assertThat(sum("SELECT spent FROM budget_months WHERE provider = 'tight'"))
        .isEqualByComparingTo("0.014");
    assertInvariant();
  }

  @Test
  void anIdleLeaseGivesBackWhatItHoldsAndClosesOnceItsCallsSettle() throws Exception {
    Candidate call = candidate(CLAUDE, "sonnet", "0.010000", "1.00");
    var first = admit(ledgerA, call, NONE, Intent.CHAT);
    var second = admit(ledgerA, call, NONE, Intent.CHAT);
    admit(ledgerA, call, NONE, Intent.CHAT); // a third grant, with room for more
    settle(ledgerA, first, call, "0.002000");
    // The writer's own housekeeping: after a second without admissions, only the call in flight
    // (second and third) is still held.
    awaitValue("SELECT leased FROM budget_months", "0.020000");
    assertThat(sum("SELECT count(*) FROM budget_leases")).isEqualByComparingTo("1");
    settle(ledgerA, second, call, "0.003000");
    awaitValue("SELECT leased FROM budget_months", "0.010000");
    assertInvariant();
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0.015");
  }

  @Test
  void aLeaseWhoseKernelStoppedIsAbandonedAndWhatItHeldStaysCounted() throws Exception {
    // A kernel that died: it took a lease of 0.25 (its call's 0.20 and 1/16 of the rest), with
    // 1 ms to live, and wrote one call of 0.05 under it.
    try (Connection c = kernelA.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.executeQuery(
          "SELECT * FROM jodo_lease(NULL, 'dead-kernel', 'claude', '2026-03-15T12:00:00Z',"
              + " 0.20, 0.01, 0.30, 1.00, 1)");
      s.executeQuery(usageOp(1000, leaseId(), "0.05", "2026-03-15T12:00:01Z"));
    }
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0.25");
    Thread.sleep(5);

    assertThat(ledgerB.reclaimLeases()).isEqualTo(1);
    assertThat(sum("SELECT count(*) FROM budget_leases")).isEqualByComparingTo("0");
    assertThat(sum("SELECT cost FROM budget_usage WHERE status = 'abandoned'"))
        .isEqualByComparingTo("0.20");
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0.25");
    assertThat(sum("SELECT leased FROM budget_months")).isEqualByComparingTo("0");
    assertInvariant();

    // It was only stalled: a call it had in flight settles late. It is counted again, on top of
    // the abandoned amount that covered it: the error is on the side of the budget.
    try (Connection c = kernelA.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.executeQuery(usageOp(1001, "424242", "0.07", "2026-03-15T12:05:00Z"));
    }
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0.32");
    assertInvariant();
  }

  @Test
  void monthBoundaryLeasesAFreshBudgetAndLateCallsStayInTheirMonth() throws Exception {
    Candidate call = candidate(CLAUDE, "sonnet", "0.600000", "1.00");
    Instant lastMoment = Instant.parse("2026-03-31T23:59:59.900Z");
    Instant nextMonth = Instant.parse("2026-04-01T00:00:00Z");
    var march = admitAt(ledgerA, call, lastMoment);
    assertThat(
            ledgerA.admit(
                "jodo", lastMoment, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(call)))
        .isInstanceOf(BudgetLedger.Unaffordable.class);
    var april = admitAt(ledgerA, call, nextMonth);
    ledgerA.settle(
        march.ticket(),
        call,
        "jodo",
        Intent.CHAT,
        "settled",
        1,
        1,
        new BigDecimal("0.000018"),
        null,
        Optional.empty(),
        nextMonth);
    settle(ledgerA, april, call, "0.000020");
    ledgerA.returnLeases();
    assertThat(sum("SELECT spent FROM budget_months WHERE month = '2026-03-01'"))
        .isEqualByComparingTo("0.000018");
    assertThat(sum("SELECT spent FROM budget_months WHERE month = '2026-04-01'"))
        .isEqualByComparingTo("0.000020");
    assertThat(
            sum(
                "SELECT count(*) FROM budget_usage WHERE cost = 0.000018"
                    + " AND created_at < '2026-04-01T00:00:00Z'"))
        .isEqualByComparingTo("1");
    assertInvariant();
  }

  @Test
  void usageRowIdsStayUniqueWhileOtherKernelsDrawFromTheSameSequence() throws Exception {
    ProviderConfig ollama =
        provider("ollama", ProviderType.OLLAMA, "0", "0", model("llama3", "0", "0", 5, "chat"));
    Candidate free = candidate(ollama, "llama3", "0", null);
    // Another kernel's per-call reservations take ids from budget_usage's sequence all along.
    AtomicBoolean running = new AtomicBoolean(true);
    int[] inserted = new int[1];
    Thread neighbour =
        Thread.ofPlatform()
            .start(
                () -> {
                  try (Connection c = kernelB.dataSource().getConnection();
                      Statement s = c.createStatement()) {
                    while (running.get()) {
                      s.execute(
                          "INSERT INTO budget_usage (provider, model, cost, status)"
                              + " VALUES ('other', 'm', 0, 'settled')");
                      inserted[0]++;
                    }
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> work = new ArrayList<>();
    for (int worker = 0; worker < 4; worker++) {
      work.add(
          pool.submit(
              () -> {
                // 4 x 600 calls: this kernel draws three blocks of 1,024 ids meanwhile.
                for (int call = 0; call < 600; call++) {
                  settle(ledgerA, admit(ledgerA, free, NONE, Intent.CHAT), free, "0");
                }
                return null;
              }));
    }
    for (Future<?> done : work) {
      done.get();
    }
    pool.shutdown();
    running.set(false);
    neighbour.join();
    ledgerA.flush();
    assertThat(sum("SELECT count(*) FROM budget_usage WHERE provider = 'ollama'"))
        .isEqualByComparingTo("2400");
    assertThat(sum("SELECT count(*) FROM budget_usage WHERE provider = 'other'"))
        .isEqualByComparingTo("" + inserted[0]);
  }

  @Test
  void freeCallsAreWrittenOnceSettledWithoutALease() throws Exception {
    ProviderConfig ollama =
        provider("ollama", ProviderType.OLLAMA, "0", "0", model("llama3", "0", "0", 5, "chat"));
    Candidate free = candidate(ollama, "llama3", "0", null);
    var admitted = admit(ledgerA, free, NONE, Intent.CHAT);
    settle(ledgerA, admitted, free, "0");
    ledgerA.flush();
    assertThat(sum("SELECT count(*) FROM budget_usage WHERE provider = 'ollama'"))
        .isEqualByComparingTo("1");
    assertThat(sum("SELECT id FROM budget_usage"))
        .isEqualByComparingTo("" + admitted.ticket().usageId());
    assertThat(sum("SELECT count(*) FROM budget_leases")).isEqualByComparingTo("0");
  }

  private static BudgetLedger.Admitted admit(
      BudgetLedger ledger, Candidate candidate, QuotaConfig.Limits limits, Intent intent)
      throws Exception {
    return (BudgetLedger.Admitted)
        ledger.admit("jodo", NOW, intent, Optional.empty(), 1, 2, limits, List.of(candidate));
  }

  private static BudgetLedger.Admitted admitAt(BudgetLedger ledger, Candidate candidate, Instant at)
      throws Exception {
    return (BudgetLedger.Admitted)
        ledger.admit("jodo", at, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(candidate));
  }

  private static void settle(
      BudgetLedger ledger, BudgetLedger.Admitted admitted, Candidate candidate, String cost) {
    ledger.settle(
        admitted.ticket(),
        candidate,
        "jodo",
        Intent.CHAT,
        "settled",
        1,
        1,
        new BigDecimal(cost),
        null,
        Optional.empty(),
        NOW);
  }

  /** A jodo_ledger call writing one settled call of {@code cost} under lease {@code lease}. */
  private static String usageOp(long id, String lease, String cost, String now) {
    return """
        SELECT * FROM jodo_ledger('[{"op": "usage", "id": %d, "lease": %s, "provider": "claude",
          "model": "sonnet", "intent": "chat", "tokens_in": 1, "tokens_out": 1, "cost": %s,
          "agent": "jodo", "status": "settled", "created": "2026-03-15T12:00:00Z",
          "now": "%s", "ttl_ms": 1}]'::jsonb)
        """
        .formatted(id, lease, cost, now);
  }

  private static String leaseId() {
    return sum("SELECT id FROM budget_leases").toPlainString();
  }

  /** Waits up to 5 s for {@code query} to answer {@code expected}. */
  private static void awaitValue(String query, String expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline && sum(query).compareTo(new BigDecimal(expected)) != 0) {
      Thread.sleep(20);
    }
    assertThat(sum(query)).isEqualByComparingTo(expected);
  }

  private static void assertInvariant() {
    assertThat(invariantProblem()).isNull();
  }

  /** What breaks the ledger's invariant right now, in one snapshot, or null. */
  private static String invariantProblem() {
    String query =
        """
        SELECT m.provider, m.month, m.spent, m.leased,
               (SELECT coalesce(sum(u.cost), 0) FROM budget_usage u
                 WHERE u.provider = m.provider
                   AND date_trunc('month', u.created_at AT TIME ZONE 'UTC')::date = m.month) AS used,
               (SELECT coalesce(sum(l.granted - l.consumed), 0) FROM budget_leases l
                 WHERE l.provider = m.provider AND l.month = m.month) AS held
          FROM budget_months m
        """;
    try (Connection c = kernelA.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      while (rs.next()) {
        BigDecimal spent = rs.getBigDecimal("spent");
        BigDecimal leased = rs.getBigDecimal("leased");
        BigDecimal used = rs.getBigDecimal("used");
        BigDecimal held = rs.getBigDecimal("held");
        String where = rs.getString("provider") + " " + rs.getString("month");
        if (spent.compareTo(used.add(leased)) != 0) {
          return where + ": spent " + spent + " != usage " + used + " + leased " + leased;
        }
        if (leased.compareTo(held) != 0) {
          return where + ": leased " + leased + " != held by leases " + held;
        }
        if (spent.compareTo(new BigDecimal("1.00")) > 0) {
          return where + ": spent " + spent + " is over the 1.00 budget";
        }
      }
      return null;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void sql(String statement) throws Exception {
    try (Connection c = kernelA.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  private static BigDecimal sum(String query) {
    try (Connection c = kernelA.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      BigDecimal value = rs.getBigDecimal(1);
      return value == null ? BigDecimal.ZERO : value;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
