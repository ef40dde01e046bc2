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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conversation gate through a real kernel: events of one conversation posted all at once from
 * many threads still run one at a time; a waiting run shows as queued; a number left behind by a
 * kernel that died before starting its workflow blocks only until it is taken for an orphan.
 */
class ConversationGateTest {
  @TempDir Path temp;
  private DatabaseTarget.External database;
  private FakeProvider openai;
  private Kernel kernel;
  private TestHttp http;
  private String admin;

  @BeforeEach
  void setUp() {
    database = TestPostgres.freshDatabase(ConversationGateTest.class);
    openai = FakeProvider.openAi("sk-openai-test");
    kernel =
        Kernel.start(
            TestConfigs.kernelConfig(
                temp, database, RunsApiTest.CONFIG, Map.of("OPENAI_URL", openai.baseUrl())),
            Kernel.Options.defaults());
    admin = kernel.firstBootAdminToken().orElseThrow().value();
    http = new TestHttp(kernel.port());
  }

  @AfterEach
  void tearDown() {
    kernel.close();
    openai.close();
    TestPostgres.drop(database);
  }

  @Test
  void eventsOfOneConversationPostedAtOnceRunOneAtATimeInTheirNumberedOrder() throws Exception {
    openai.reply("ok").delay(Duration.ofMillis(15));
    int events = 40;
    List<String> runs = Collections.synchronizedList(new ArrayList<>());
    try (ExecutorService posters = Executors.newFixedThreadPool(16)) {
      List<Callable<String>> posts = new ArrayList<>();
      for (int i = 0; i < events; i++) {
        String text = "m" + i;
        posts.add(() -> post("crowd", text));
      }
      for (Future<String> posted : posters.invokeAll(posts)) {
        runs.add(posted.get());
      }
    }
    awaitTrue(() -> runs.stream().allMatch(run -> status(run).equals("succeeded")));

    assertThat(openai.maxInFlight()).as("model calls at once in one conversation").isEqualTo(1);
    // The session holds each message with its own reply right after it, in the runs' numbered
    // order: no run read the session while another was between its call and its append.
    List<String> byNumber = query("SELECT run_id FROM conversation_runs ORDER BY run_order");
    List<String> bySession = query("SELECT run_id FROM session_messages WHERE seq = 0 ORDER BY id");
    assertThat(bySession).containsExactlyElementsOf(byNumber).hasSize(events);
    assertThat(query("SELECT run_id FROM conversation_runs WHERE finished_at IS NULL")).isEmpty();
    // Each model call saw the session before it (2 messages per earlier run), the system prompt
    // and its own message.
    List<Integer> sessionSizes =
        openai.requests().stream().map(r -> r.body().path("messages").size()).sorted().toList();
    for (int i = 0; i < events; i++) {
      assertThat(sessionSizes.get(i)).isEqualTo(2 * i + 2);
    }
  }

  @Test
  void aRunWaitingForItsTurnIsQueuedAndStartsWhenTheEarlierRunFinishes() throws Exception {
    openai.reply("ok").delay(Duration.ofMillis(1500));
    String first = post("slow", "first");
    awaitTrue(() -> status(first).equals("running"));
    String second = post("slow", "second");
    Thread.sleep(300);

    JsonNode waiting = http.get("/v1/runs/" + second, admin).json();
    assertThat(waiting.path("status").asText()).isEqualTo("queued");
    assertThat(waiting.path("started_at").isMissingNode() || waiting.path("started_at").isNull())
        .as("a queued run has not started: " + waiting)
        .isTrue();
    JsonNode queued = http.get("/v1/runs?status=queued", admin).json().path("runs");
    assertThat(queued.size()).isEqualTo(1);
    assertThat(queued.get(0).path("run_id").asText()).isEqualTo(second);
    JsonNode running = http.get("/v1/runs?status=running", admin).json().path("runs");
    assertThat(running.size()).isEqualTo(1);
    assertThat(running.get(0).path("run_id").asText()).isEqualTo(first);

    awaitTrue(() -> status(second).equals("succeeded"));
    JsonNode done = http.get("/v1/runs/" + second, admin).json();
    JsonNode before = http.get("/v1/runs/" + first, admin).json();
    assertThat(Instant.parse(done.path("started_at").asText()))
        .isAfterOrEqualTo(Instant.parse(before.path("finished_at").asText()));
  }

  @Test
  void aNumberWhoseWorkflowNeverStartedBlocksItsConversationOnlyUntilItIsAnOrphan()
      throws Exception {
    openai.reply("ok");
    long orphanAge = ConversationGate.ORPHAN_AFTER.toSeconds() - 2;
    execute(
        "INSERT INTO conversation_runs (run_id, conversation_key, run_order, created_at)"
            + " VALUES ('run_lost', 'left-behind', nextval('run_order'), now() - make_interval(secs => "
            + orphanAge
            + "))");
    long posted = System.nanoTime();
    String run = post("left-behind", "after a crash");
    Thread.sleep(500);
    assertThat(status(run)).as("blocked by a number that may still start").isEqualTo("queued");
    String other = post("elsewhere", "unaffected");
    awaitTrue(() -> status(other).equals("succeeded"));

    awaitTrue(() -> status(run).equals("succeeded"));
    assertThat(Duration.ofNanos(System.nanoTime() - posted)).isGreaterThan(Duration.ofSeconds(1));
    assertThat(openai.requests()).hasSize(2);
  }

  private String post(String conversation, String text) {
    return TestRuns.post(http, admin, "message", conversation, text);
  }

  private String status(String runId) {
    return http.get("/v1/runs/" + runId, admin).json().path("status").asText();
  }

  private List<String> query(String sql) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  private void execute(String sql) throws Exception {
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.executeUpdate();
    }
  }

  private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("timed out").isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
