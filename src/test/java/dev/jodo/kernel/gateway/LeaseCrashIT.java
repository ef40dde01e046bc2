package dev.jodo.kernel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.testing.JarKernel;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.io.IOException;
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
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kernel killed with SIGKILL while calls admitted under its budget lease are in flight: what the
 * lease held stays counted, another kernel goes on serving, the dead lease is abandoned (counted,
 * never given back), and a kernel that stops normally gives its lease back. Real kernel processes
 * (the packaged jar) on one PostgreSQL database, in front of a fake Anthropic over HTTP.
 */
class LeaseCrashIT {
  private static final String CONFIG =
      """
      providers:
        claude:
          type: anthropic
          base_url: "${ANTHROPIC_URL}"
          api_key: "sk-ant-crash"
          models:
            claude-sonnet-4-20250514: {input_cost_per_1m_tokens: 3.00, output_cost_per_1m_tokens: 15.00, capabilities: [code], quality: 9}
          monthly_budget: 5.00
          emergency_reserve: 0
          max_concurrency: 64
      routing:
        intent_preferences:
          code: [claude]
      """;
  // max_tokens 100 at $15/M plus the input bound: a worst case of about $0.0016 per call.
  private static final String BODY =
      "{\"intent\":\"code\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}";

  @TempDir Path temp;
  private DatabaseTarget.External database;
  private Database db;
  private FakeProvider anthropic;
  private final List<Process> kernels = new ArrayList<>();

  @BeforeEach
  void setUp() {
    database = TestPostgres.freshDatabase(LeaseCrashIT.class);
    db = Database.open(database, null, "crash-test");
    db.migrate(Database.KERNEL_MIGRATIONS);
    anthropic = FakeProvider.anthropic("sk-ant-crash");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process kernel : kernels) {
      kernel.destroyForcibly();
      kernel.waitFor(30, TimeUnit.SECONDS);
    }
    anthropic.close();
    db.close();
    TestPostgres.drop(database);
  }

  @Test
  void aKilledKernelsLeaseStaysCountedAndIsAbandonedNeverGivenBack() throws Exception {
    String token =
        new TokenService(db.dataSource(), Optional.empty())
            .createAgentToken("jodo", EnumSet.of(Scope.THINK))
            .token()
            .value();

    // Kernel 1 admits eight calls; the provider holds them.
    anthropic.delay(Duration.ofSeconds(30)).usage(20, 80);
    JarKernel first = start("one");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    for (int i = 0; i < 8; i++) {
      pool.submit(() -> first.http().post("/api/think", token, BODY));
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (anthropic.inFlight() < 8 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(anthropic.inFlight()).isEqualTo(8);

    first.process().destroyForcibly(); // SIGKILL: no shutdown hook, no give-back
    assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    pool.shutdownNow();
    // The lease holds at least the eight worst cases (each over 100 x $15/M = $0.0015).
    BigDecimal held = value("SELECT sum(granted - consumed) FROM budget_leases");
    assertThat(held).isGreaterThanOrEqualTo(new BigDecimal("0.012"));
    assertThat(value("SELECT count(*) FROM budget_leases")).isEqualByComparingTo("1");
    assertThat(value("SELECT spent FROM budget_months")).isEqualByComparingTo(held);
    assertThat(value("SELECT count(*) FROM budget_usage")).isEqualByComparingTo("0");
    assertInvariant();

    // Kernel 2 serves on; the dead kernel's lease is still counted beside its own.
    anthropic.reset();
    anthropic.usage(20, 80);
    JarKernel second = start("two");
    for (int i = 0; i < 3; i++) {
      TestHttp.Response response = second.http().post("/api/think", token, BODY);
      assertThat(response.status()).as(response.body()).isEqualTo(200);
    }
    // Each call cost 20 x $3/M + 80 x $15/M = $0.00126.
    awaitValue("SELECT count(*) FROM budget_usage WHERE status = 'settled'", "3");
    assertThat(value("SELECT spent FROM budget_months").subtract(held))
        .isGreaterThanOrEqualTo(new BigDecimal("0.00378"));
    assertInvariant();

    // Two minutes after its last renewal the dead lease expires (here: now), and housekeeping
    // abandons it: what it held becomes a counted row.
    long firstPid = first.process().pid();
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.executeUpdate(
          "UPDATE budget_leases SET expires_at = now() - interval '1 second'"
              + " WHERE holder LIKE '%:"
              + firstPid
              + ":%'");
      try (ResultSet rs = s.executeQuery("SELECT jodo_reclaim_leases()")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(1);
      }
    }
    assertThat(value("SELECT cost FROM budget_usage WHERE status = 'abandoned'"))
        .isEqualByComparingTo(held);
    assertThat(value("SELECT count(*) FROM budget_usage WHERE status = 'abandoned'"))
        .isEqualByComparingTo("1");
    assertInvariant();

    // Kernel 2 stops normally: its lease goes back, and what is spent is exactly the usage rows.
    second.process().destroy(); // SIGTERM
    assertThat(second.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(value("SELECT count(*) FROM budget_leases")).isEqualByComparingTo("0");
    assertThat(value("SELECT leased FROM budget_months")).isEqualByComparingTo("0");
    assertThat(value("SELECT spent FROM budget_months"))
        .isEqualByComparingTo(held.add(new BigDecimal("0.00378")));
    assertThat(value("SELECT count(DISTINCT id) FROM budget_usage"))
        .isEqualByComparingTo(value("SELECT count(*) FROM budget_usage"));
    assertInvariant();
  }

  private JarKernel start(String name) throws Exception {
    JarKernel kernel =
        JarKernel.start(
            temp.resolve(name), CONFIG, database, Map.of("ANTHROPIC_URL", anthropic.baseUrl()));
    kernels.add(kernel.process());
    return kernel;
  }

  private void awaitValue(String query, String expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline && value(query).compareTo(new BigDecimal(expected)) != 0) {
      Thread.sleep(20);
    }
    assertThat(value(query)).isEqualByComparingTo(expected);
  }

  private void assertInvariant() throws Exception {
    assertThat(
            value(
                "SELECT m.spent - (SELECT coalesce(sum(cost), 0) FROM budget_usage) - m.leased"
                    + " FROM budget_months m"))
        .as("spent = usage + leased")
        .isEqualByComparingTo("0");
    assertThat(
            value(
                "SELECT m.leased - (SELECT coalesce(sum(granted - consumed), 0) FROM budget_leases)"
                    + " FROM budget_months m"))
        .as("leased = what the open leases hold")
        .isEqualByComparingTo("0");
  }

  private BigDecimal value(String query) throws IOException {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      BigDecimal value = rs.getBigDecimal(1);
      return value == null ? BigDecimal.ZERO : value;
    } catch (java.sql.SQLException e) {
      throw new IOException(e);
    }
  }
}
