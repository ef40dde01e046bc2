package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two kernels on one database, each with its own executor: events for one conversation sent to
 * both, alternately, still run one at a time in arrival order, and both kernels execute runs.
 */
class TwoKernelRunsTest {
  @TempDir Path temp;
  private DatabaseTarget.External database;
  private FakeProvider openai;
  private final List<Kernel> kernels = new ArrayList<>();

  @BeforeEach
  void setUp() {
    database = TestPostgres.freshDatabase(TwoKernelRunsTest.class);
    openai = FakeProvider.openAi("sk-openai-test");
  }

  @AfterEach
  void tearDown() {
    kernels.forEach(Kernel::close);
    openai.close();
    TestPostgres.drop(database);
  }

  private Kernel start(String name) {
    Kernel kernel =
        Kernel.start(
            TestConfigs.kernelConfig(
                temp.resolve(name),
                database,
                RunsApiTest.CONFIG,
                Map.of("OPENAI_URL", openai.baseUrl())),
            Kernel.Options.defaults());
    kernels.add(kernel);
    return kernel;
  }

  @Test
  void oneConversationSentToTwoKernelsStillRunsInOrderOneAtATime() throws Exception {
    openai.reply("ok").delay(Duration.ofMillis(100));
    Kernel a = start("a");
    Kernel b = start("b");
    String admin = a.firstBootAdminToken().or(b::firstBootAdminToken).orElseThrow().value();
    List<TestHttp> https = List.of(new TestHttp(a.port()), new TestHttp(b.port()));
    List<String> runs = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      TestHttp.Response accepted =
          https
              .get(i % 2)
              .post(
                  "/v1/events",
                  admin,
                  "{\"schema_version\":1,\"type\":\"message\",\"conversation_key\":\"shared\",\"text\":\"m"
                      + i
                      + "\"}");
      assertThat(accepted.status()).isEqualTo(202);
      runs.add(accepted.json().path("run_id").asText());
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline
        && !https
            .get(0)
            .get("/v1/runs/" + runs.get(11), admin)
            .json()
            .path("status")
            .asText()
            .equals("succeeded")) {
      Thread.sleep(50);
    }
    Instant previous = Instant.EPOCH;
    Set<String> executors = new HashSet<>();
    for (String runId : runs) {
      JsonNode run = https.get(1).get("/v1/runs/" + runId, admin).json();
      assertThat(run.path("status").asText()).as(runId).isEqualTo("succeeded");
      assertThat(Instant.parse(run.path("started_at").asText())).isAfterOrEqualTo(previous);
      previous = Instant.parse(run.path("finished_at").asText());
      executors.add(executor(a, runId));
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      expected.add("m" + i);
      expected.add("ok");
    }
    assertThat(sessionTexts(a)).containsExactlyElementsOf(expected);
    // Independent of the timestamps: the provider never saw two of the conversation's calls at
    // once.
    assertThat(openai.maxInFlight()).isEqualTo(1);
    assertThat(executors).as("both kernels executed runs").hasSize(2);
  }

  private static String executor(Kernel kernel, String runId) throws Exception {
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = ?")) {
      ps.setString(1, runId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  private static List<String> sessionTexts(Kernel kernel) throws Exception {
    List<String> texts = new ArrayList<>();
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT content FROM session_messages WHERE conversation_key = 'shared' ORDER BY id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        texts.add(rs.getString(1));
      }
    }
    return texts;
  }
}
