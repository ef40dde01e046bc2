package dev.jodo.kernel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test: 64 concurrent calls whose worst cases add up to 6x the budget,
 * spread over two kernels sharing one database, never spend more than the budget.
 */
class GatewayBudgetRaceTest {
  static final String CONFIG =
      """
      providers:
        claude:
          type: anthropic
          base_url: "${ANTHROPIC_URL}"
          api_key: "sk-ant-race"
          models:
            claude-sonnet-4-20250514: {input_cost_per_1m_tokens: 3.00, output_cost_per_1m_tokens: 15.00, capabilities: [code], quality: 9}
          monthly_budget: 1.00
          emergency_reserve: 0
          max_concurrency: 64
      routing:
        intent_preferences:
          code: [claude]
      """;

  @TempDir Path temp;

  @Test
  void sixtyFourCallsSixTimesOverBudgetOnTwoKernelsNeverOverspend() throws Exception {
    DatabaseTarget.External database = TestPostgres.freshDatabase(GatewayBudgetRaceTest.class);
    try (FakeProvider anthropic = FakeProvider.anthropic("sk-ant-race")) {
      anthropic.delay(Duration.ofMillis(30)).usage(20, 6000);
      Map<String, String> env = Map.of("ANTHROPIC_URL", anthropic.baseUrl());
      Kernel a =
          Kernel.start(
              TestConfigs.kernelConfig(temp.resolve("a"), database, CONFIG, env),
              Kernel.Options.defaults());
      Kernel b =
          Kernel.start(
              TestConfigs.kernelConfig(temp.resolve("b"), database, CONFIG, env),
              Kernel.Options.defaults());
      try {
        String token = a.tokens().createAgentToken("jodo", EnumSet.of(Scope.THINK)).token().value();
        // Worst case per call: max_tokens 6250 x $15/M = $0.09375 plus the input bound: 64 calls
        // ask for just over six budgets.
        String body =
            "{\"intent\":\"code\",\"max_tokens\":6250,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";
        List<TestHttp> kernels = List.of(new TestHttp(a.port()), new TestHttp(b.port()));
        ExecutorService pool = Executors.newFixedThreadPool(64);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<TestHttp.Response>> calls = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
          TestHttp http = kernels.get(i % 2);
          calls.add(
              pool.submit(
                  () -> {
                    start.await();
                    return http.post("/api/think", token, body);
                  }));
        }
        start.countDown();
        int ok = 0;
        int refused = 0;
        for (Future<TestHttp.Response> call : calls) {
          TestHttp.Response response = call.get();
          if (response.status() == 200) {
            ok++;
          } else {
            assertThat(response.status()).as(response.body()).isEqualTo(503);
            assertThat(response.errorCode()).isEqualTo("no_provider");
            assertThat(response.errorMessage()).contains("worst case $0.09");
            refused++;
          }
        }
        pool.shutdown();
        a.gateway().flushLedger();
        b.gateway().flushLedger();

        try (Connection c = a.database().dataSource().getConnection();
            Statement s = c.createStatement();
            ResultSet rs =
                s.executeQuery(
                    "SELECT coalesce(sum(cost), 0), count(*) FILTER (WHERE status = 'settled'),"
                        + " count(*) FILTER (WHERE status = 'reserved') FROM budget_usage")) {
          rs.next();
          BigDecimal spent = rs.getBigDecimal(1);
          assertThat(spent).isLessThanOrEqualTo(new BigDecimal("1.00"));
          assertThat(rs.getInt(2)).isEqualTo(ok);
          assertThat(rs.getInt(3)).isZero();
          // Each success cost 20 x $3/M + 6000 x $15/M = $0.09006.
          assertThat(spent)
              .isEqualByComparingTo(new BigDecimal("0.090060").multiply(BigDecimal.valueOf(ok)));
        }
        assertThat(ok + refused).isEqualTo(64);
        assertThat(ok).isBetween(10, 11);
        assertThat(anthropic.requests()).hasSize(ok);
      } finally {
        a.close();
        b.close();
        TestPostgres.drop(database);
      }
    }
  }
}
