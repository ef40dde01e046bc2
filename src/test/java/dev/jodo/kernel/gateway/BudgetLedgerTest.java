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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BudgetLedgerTest {
  private static DatabaseTarget.External target;
  private static Database kernelA;
  private static Database kernelB;
  // One ledger per kernel, as in the kernel: each has its own writer and connection pool.
  private static BudgetLedger ledgerA;
  private static BudgetLedger ledgerB;
  private static final ProviderConfig CLAUDE =
      provider(
          "claude",
          ProviderType.ANTHROPIC,
          "1.00",
          "0.10",
          model("sonnet", "3.00", "15.00", 9, "code", "chat"));
  private static final QuotaConfig.Limits NONE = QuotaConfig.Limits.NONE;
  private static final Instant NOW = Instant.parse("2026-03-15T12:00:00Z");

  @BeforeAll
  static void databases() {
    target = TestPostgres.freshDatabase(BudgetLedgerTest.class);
    kernelA = Database.open(target, null, "a");
    kernelA.migrate(Database.KERNEL_MIGRATIONS);
    kernelB = Database.open(target, null, "b");
    ledgerA = new BudgetLedger(kernelA.dataSource());
    ledgerB = new BudgetLedger(kernelB.dataSource());
  }

  @AfterAll
  static void drop() {
    ledgerA.close();
    ledgerB.close();
    kernelA.close();
    kernelB.close();
    TestPostgres.drop(target);
  }

  @BeforeEach
  void empty() throws Exception {
    sql("TRUNCATE budget_usage, budget_months, agent_requests");
  }

  @Test
  void sixtyFourConcurrentReservationsOnTwoKernelsNeverExceedTheBudget() throws Exception {
    // Each worst case is 1/64 of six budgets: together they ask for 6x what may be spent.
    Candidate expensive = candidate(CLAUDE, "sonnet", "0.093750", "1.00");
    ExecutorService pool = Executors.newFixedThreadPool(64);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean running = new AtomicBoolean(true);
    List<BigDecimal> observed = new ArrayList<>();
    Thread watcher =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (running.get()) {
                    observed.add(sum("SELECT coalesce(sum(cost), 0) FROM budget_usage"));
                  }
                });
    List<Future<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      BudgetLedger ledger = i % 2 == 0 ? ledgerA : ledgerB;
      results.add(
          pool.submit(
              () -> {
                start.await();
                BudgetLedger.Admission admission =
                    ledger.reserve(
                        "jodo",
                        NOW,
                        Intent.CHAT,
                        Optional.empty(),
                        100,
                        6000,
                        NONE,
                        List.of(expensive));
                if (admission instanceof BudgetLedger.Admitted admitted) {
                  // Settle below the reservation, as a real call does.
                  settle(
                      ledger,
                      admitted,
                      expensive,
                      "settled",
                      50,
                      900,
                      new BigDecimal("0.013650"),
                      null,
                      NOW);
                  return true;
                }
                return false;
              }));
    }
    start.countDown();
    int admitted = 0;
    for (Future<Boolean> result : results) {
      admitted += result.get() ? 1 : 0;
    }
    ledgerA.flush();
    ledgerB.flush();
    running.set(false);
    watcher.join();
    pool.shutdown();

    BigDecimal spent = sum("SELECT coalesce(sum(cost), 0) FROM budget_usage");
    assertThat(spent).isLessThanOrEqualTo(new BigDecimal("1.00"));
    assertThat(observed).isNotEmpty().allMatch(v -> v.compareTo(new BigDecimal("1.00")) <= 0);
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo(spent);
    assertThat(spent)
        .isEqualByComparingTo(new BigDecimal("0.013650").multiply(BigDecimal.valueOf(admitted)));
    // With settlements freeing room, more than the 10 that fit at once get through, never all.
    assertThat(admitted).isBetween(10, 63);
  }

  @Test
  void withoutSettlementExactlyTheAffordableReservationsAreAdmitted() throws Exception {
    Candidate expensive = candidate(CLAUDE, "sonnet", "0.093750", "1.00");
    ExecutorService pool = Executors.newFixedThreadPool(32);
    List<Future<BudgetLedger.Admission>> results = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      BudgetLedger ledger = i % 2 == 0 ? ledgerA : ledgerB;
      results.add(
          pool.submit(
              () ->
                  ledger.reserve(
                      "jodo",
                      NOW,
                      Intent.CHAT,
                      Optional.empty(),
                      100,
                      6000,
                      NONE,
                      List.of(expensive))));
    }
    int admitted = 0;
    for (Future<BudgetLedger.Admission> result : results) {
      admitted += result.get() instanceof BudgetLedger.Admitted ? 1 : 0;
    }
    pool.shutdown();
    assertThat(admitted).isEqualTo(10); // 10 x 0.09375 = 0.9375 <= 1.00 < 11 x 0.09375
    assertThat(sum("SELECT sum(cost) FROM budget_usage WHERE status = 'reserved'"))
        .isEqualByComparingTo("0.937500");
  }

  @Test
  void firstAffordableCandidateIsChosenAndTheOthersReportWhatTheySaw() throws Exception {
    BudgetLedger ledger = ledgerA;
    sql(
        "INSERT INTO budget_usage (provider, model, cost, created_at) VALUES ('claude', 'sonnet', 0.95, '2026-03-02T00:00:00Z')");
    ProviderConfig ollama =
        provider("ollama", ProviderType.OLLAMA, "0", "0", model("llama3", "0", "0", 5, "chat"));
    List<Candidate> candidates =
        List.of(
            candidate(CLAUDE, "sonnet", "0.100000", "0.90"),
            candidate(ollama, "llama3", "0", null));
    BudgetLedger.Admission admission =
        ledger.reserve("jodo", NOW, Intent.CHAT, Optional.empty(), 10, 20, NONE, candidates);
    assertThat(admission).isInstanceOf(BudgetLedger.Admitted.class);
    BudgetLedger.Admitted admitted = (BudgetLedger.Admitted) admission;
    assertThat(admitted.index()).isEqualTo(1);
    assertThat(admitted.spentSeen()).containsExactly(Optional.of(new BigDecimal("0.950000")));
  }

  @Test
  void modelNamesWithQuotesCommasAndBackslashesAreStoredAsGiven() throws Exception {
    String odd = "org/od\"d,model\\v{2} NULL";
    ProviderConfig provider =
        provider("vllm", ProviderType.OPENAI, "1.00", "0", model(odd, "1", "1", 5, "chat"));
    var admitted =
        (BudgetLedger.Admitted)
            ledgerA.reserve(
                "jodo",
                NOW,
                Intent.CHAT,
                Optional.empty(),
                1,
                2,
                NONE,
                List.of(candidate(provider, odd, "0.25", "1.00")));
    assertThat(admitted.index()).isZero();
    try (Connection c = kernelA.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT provider, model, cost FROM budget_usage")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("vllm");
      assertThat(rs.getString(2)).isEqualTo(odd);
      assertThat(rs.getBigDecimal(3)).isEqualByComparingTo("0.25");
    }
  }

  @Test
  void monthBoundaryStartsAFreshBudgetAndKeepsLateReservationsInTheirMonth() throws Exception {
    BudgetLedger ledger = ledgerA;
    Candidate call = candidate(CLAUDE, "sonnet", "0.600000", "1.00");
    Instant lastMoment = Instant.parse("2026-03-31T23:59:59.900Z");
    Instant nextMonth = Instant.parse("2026-04-01T00:00:00Z");
    var first =
        (BudgetLedger.Admitted)
            ledger.reserve(
                "jodo", lastMoment, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(call));
    assertThat(
            ledger.reserve(
                "jodo", lastMoment, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(call)))
        .isInstanceOf(BudgetLedger.Unaffordable.class);
    // A new month: the whole budget again, even before March's reservation settles.
    assertThat(
            ledger.reserve(
                "jodo", nextMonth, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(call)))
        .isInstanceOf(BudgetLedger.Admitted.class);
    // March's reservation settles in April but stays in March.
    settle(ledger, first, call, "settled", 1, 1, new BigDecimal("0.000018"), null, nextMonth);
    ledger.flush();
    assertThat(sum("SELECT spent FROM budget_months WHERE month = '2026-03-01'"))
        .isEqualByComparingTo("0.000018");
    assertThat(sum("SELECT spent FROM budget_months WHERE month = '2026-04-01'"))
        .isEqualByComparingTo("0.600000");
  }

  @Test
  void failedCallIsReleasedToZeroWithItsError() throws Exception {
    BudgetLedger ledger = ledgerA;
    Candidate half = candidate(CLAUDE, "sonnet", "0.5", "1.00");
    var admitted =
        (BudgetLedger.Admitted)
            ledger.reserve("jodo", NOW, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(half));
    settle(
        ledger,
        admitted,
        half,
        "failed",
        0,
        0,
        BigDecimal.ZERO,
        "claude: HTTP 529 overloaded",
        NOW);
    ledger.flush();
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0");
    try (Connection c = kernelA.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT status, cost, error FROM budget_usage")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("failed");
      assertThat(rs.getBigDecimal(2)).isEqualByComparingTo("0");
      assertThat(rs.getString(3)).isEqualTo("claude: HTTP 529 overloaded");
    }
  }

  @Test
  void requestsPerMinuteAllowsExactlyTheLimitAndSaysWhenTheNextFits() throws Exception {
    BudgetLedger ledger = ledgerA;
    QuotaConfig.Limits three =
        new QuotaConfig.Limits(
            OptionalLong.empty(), Optional.empty(), OptionalInt.of(3), OptionalLong.empty());
    Candidate free = freeCandidate();
    for (int i = 0; i < 3; i++) {
      assertThat(
              ledger.reserve(
                  "jodo",
                  NOW.plusSeconds(i * 10),
                  Intent.CHAT,
                  Optional.empty(),
                  1,
                  2,
                  three,
                  List.of(free)))
          .isInstanceOf(BudgetLedger.Admitted.class);
    }
    BudgetLedger.Admission fourth =
        ledger.reserve(
            "jodo", NOW.plusSeconds(25), Intent.CHAT, Optional.empty(), 1, 2, three, List.of(free));
    assertThat(fourth).isInstanceOf(BudgetLedger.Limited.class);
    BudgetLedger.Limited limited = (BudgetLedger.Limited) fourth;
    assertThat(limited.kind()).isEqualTo("rate_requests");
    assertThat(limited.used()).isEqualByComparingTo("3");
    // The first request (at +0 s) leaves the window at +60 s: 35 s from +25 s.
    assertThat(limited.retryAfter()).isEqualTo(Duration.ofSeconds(35));
    // Another agent is not affected.
    assertThat(
            ledger.reserve(
                "other",
                NOW.plusSeconds(25),
                Intent.CHAT,
                Optional.empty(),
                1,
                2,
                three,
                List.of(free)))
        .isInstanceOf(BudgetLedger.Admitted.class);
    // Once the first request has left the window, the next fits.
    assertThat(
            ledger.reserve(
                "jodo",
                NOW.plusSeconds(60).plusMillis(1),
                Intent.CHAT,
                Optional.empty(),
                1,
                2,
                three,
                List.of(free)))
        .isInstanceOf(BudgetLedger.Admitted.class);
  }

  @Test
  void fallbackAttemptsOfOneRequestCountOnce() throws Exception {
    BudgetLedger ledger = ledgerA;
    QuotaConfig.Limits one =
        new QuotaConfig.Limits(
            OptionalLong.empty(), Optional.empty(), OptionalInt.of(1), OptionalLong.empty());
    var first =
        (BudgetLedger.Admitted)
            ledger.reserve(
                "jodo", NOW, Intent.CHAT, Optional.empty(), 1, 2, one, List.of(freeCandidate()));
    assertThat(
            ledger.reserve(
                "jodo",
                NOW,
                Intent.CHAT,
                ((BudgetLedger.Reservation) first.ticket()).requestId(),
                1,
                2,
                one,
                List.of(freeCandidate())))
        .isInstanceOf(BudgetLedger.Admitted.class);
    assertThat(sum("SELECT count(*) FROM agent_requests")).isEqualByComparingTo("1");
  }

  @Test
  void tokensPerMinuteCountsReservedTokensAndWaitsForEnoughToExpire() throws Exception {
    BudgetLedger ledger = ledgerA;
    QuotaConfig.Limits thousand =
        new QuotaConfig.Limits(
            OptionalLong.empty(), Optional.empty(), OptionalInt.empty(), OptionalLong.of(1000));
    Candidate free = freeCandidate();
    ledger.reserve("jodo", NOW, Intent.CHAT, Optional.empty(), 100, 400, thousand, List.of(free));
    ledger.reserve(
        "jodo",
        NOW.plusSeconds(20),
        Intent.CHAT,
        Optional.empty(),
        100,
        400,
        thousand,
        List.of(free));
    BudgetLedger.Limited third =
        (BudgetLedger.Limited)
            ledger.reserve(
                "jodo",
                NOW.plusSeconds(30),
                Intent.CHAT,
                Optional.empty(),
                100,
                400,
                thousand,
                List.of(free));
    assertThat(third.kind()).isEqualTo("rate_tokens");
    assertThat(third.used()).isEqualByComparingTo("800");
    assertThat(third.retryAfter())
        .isEqualTo(Duration.ofSeconds(30)); // the +0 s request expires at +60 s
    BudgetLedger.Limited never =
        (BudgetLedger.Limited)
            ledger.reserve(
                "jodo",
                NOW.plusSeconds(30),
                Intent.CHAT,
                Optional.empty(),
                100,
                1500,
                thousand,
                List.of(free));
    assertThat(never.kind()).isEqualTo("rate_tokens_never");
  }

  @Test
  void tokensPerDayAndCostPerMonthQuotasWaitForTheNextPeriod() throws Exception {
    BudgetLedger ledger = ledgerA;
    QuotaConfig.Limits daily =
        new QuotaConfig.Limits(
            OptionalLong.of(1000), Optional.empty(), OptionalInt.empty(), OptionalLong.empty());
    ledger.reserve(
        "jodo", NOW, Intent.CHAT, Optional.empty(), 300, 700, daily, List.of(freeCandidate()));
    BudgetLedger.Limited day =
        (BudgetLedger.Limited)
            ledger.reserve(
                "jodo",
                NOW,
                Intent.CHAT,
                Optional.empty(),
                100,
                400,
                daily,
                List.of(freeCandidate()));
    assertThat(day.kind()).isEqualTo("quota_tokens_day");
    assertThat(day.used()).isEqualByComparingTo("700");
    assertThat(day.retryAfter()).isEqualTo(Duration.ofHours(12)); // 12:00 → midnight UTC

    QuotaConfig.Limits monthly =
        new QuotaConfig.Limits(
            OptionalLong.empty(),
            Optional.of(new BigDecimal("0.20")),
            OptionalInt.empty(),
            OptionalLong.empty());
    Candidate paid = candidate(CLAUDE, "sonnet", "0.150000", "1.00");
    assertThat(
            ledger.reserve(
                "jodo", NOW, Intent.CHAT, Optional.empty(), 1, 2, monthly, List.of(paid)))
        .isInstanceOf(BudgetLedger.Admitted.class);
    BudgetLedger.Limited month =
        (BudgetLedger.Limited)
            ledger.reserve(
                "jodo", NOW, Intent.CHAT, Optional.empty(), 1, 2, monthly, List.of(paid));
    assertThat(month.kind()).isEqualTo("quota_cost_month");
    assertThat(month.used()).isEqualByComparingTo("0.15");
    assertThat(month.retryAfter())
        .isEqualTo(Duration.between(NOW, Instant.parse("2026-04-01T00:00:00Z")));
  }

  @Test
  void reservationsOfADeadKernelStayCountedAndAreMarkedAbandoned() throws Exception {
    BudgetLedger ledger = ledgerA;
    ledger.reserve(
        "jodo",
        NOW,
        Intent.CHAT,
        Optional.empty(),
        1,
        2,
        NONE,
        List.of(candidate(CLAUDE, "sonnet", "0.4", "1.00")));
    ledger.reserve(
        "jodo",
        NOW.plusSeconds(600),
        Intent.CHAT,
        Optional.empty(),
        1,
        2,
        NONE,
        List.of(candidate(CLAUDE, "sonnet", "0.4", "1.00")));
    assertThat(ledger.abandonStale(NOW.plusSeconds(300))).isEqualTo(1);
    assertThat(sum("SELECT count(*) FROM budget_usage WHERE status = 'abandoned'"))
        .isEqualByComparingTo("1");
    // Abandoned reservations keep their worst case: the provider may have billed the call.
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0.8");
    assertThat(sum("SELECT sum(cost) FROM budget_usage")).isEqualByComparingTo("0.8");
  }

  @Test
  void operationsQueuedBehindABusyRowGoTogetherAndABadOneFailsAlone() throws Exception {
    BudgetLedger ledger = ledgerA;
    Candidate call = candidate(CLAUDE, "sonnet", "0.1", "1.00");
    var first =
        (BudgetLedger.Admitted)
            ledger.reserve("jodo", NOW, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(call));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<BudgetLedger.Admission>> admissions = new ArrayList<>();
    try (Connection other = kernelB.dataSource().getConnection();
        Statement s = other.createStatement()) {
      // Another kernel holds the provider's row: this kernel's writer blocks on its next batch
      // while the rest queue up behind it.
      other.setAutoCommit(false);
      s.execute("SELECT * FROM budget_months FOR UPDATE");
      admissions.add(
          pool.submit(
              () ->
                  ledger.reserve(
                      "jodo", NOW, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(call))));
      Thread.sleep(200);
      // A status the table refuses poisons the batch it lands in.
      settle(
          ledger,
          first,
          call,
          "bogus",
          1,
          1,
          BigDecimal.ZERO,
          "nul \u0000 in a provider's message",
          NOW);
      for (int i = 0; i < 6; i++) {
        admissions.add(
            pool.submit(
                () ->
                    ledger.reserve(
                        "jodo", NOW, Intent.CHAT, Optional.empty(), 1, 2, NONE, List.of(call))));
      }
      Thread.sleep(200);
      assertThat(admissions).noneMatch(Future::isDone);
      other.commit();
    }
    int admitted = 0;
    for (Future<BudgetLedger.Admission> admission : admissions) {
      admitted += admission.get() instanceof BudgetLedger.Admitted ? 1 : 0;
    }
    pool.shutdown();
    ledger.flush();
    // All seven fit beside the first, which stays reserved: its settlement alone was refused.
    assertThat(admitted).isEqualTo(7);
    assertThat(sum("SELECT count(*) FROM budget_usage WHERE status = 'reserved'"))
        .isEqualByComparingTo("8");
    assertThat(sum("SELECT spent FROM budget_months")).isEqualByComparingTo("0.8");
  }

  /** Settles an admitted call of agent jodo. */
  private static void settle(
      BudgetLedger ledger,
      BudgetLedger.Admitted admitted,
      Candidate candidate,
      String status,
      long tokensIn,
      long tokensOut,
      BigDecimal cost,
      String error,
      Instant now) {
    ledger.settle(
        admitted.ticket(),
        candidate,
        "jodo",
        Intent.CHAT,
        status,
        tokensIn,
        tokensOut,
        cost,
        error,
        Optional.empty(),
        now);
  }

  private static Candidate freeCandidate() {
    ProviderConfig ollama =
        provider("ollama", ProviderType.OLLAMA, "0", "0", model("llama3", "0", "0", 5, "chat"));
    return candidate(ollama, "llama3", "0", null);
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
