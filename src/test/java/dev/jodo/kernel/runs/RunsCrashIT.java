package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.testing.JarKernel;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kernel process killed with SIGKILL in the middle of 50 runs over 10 conversations, against a
 * slow fake provider, then started again on the same home: every run succeeds exactly once, in
 * order within its conversation, and no gateway call whose step had completed is made twice.
 */
class RunsCrashIT {
  private static final String CONFIG =
      """
      providers:
        openai:
          base_url: "${OPENAI_URL}"
          api_key: "sk-openai-crash"
          models:
            gpt-4o-mini: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [chat], quality: 6}
      routing:
        intent_preferences:
          chat: [openai]
      """;

  @TempDir Path temp;
  private DatabaseTarget.External database;
  private Database db;
  private FakeProvider openai;
  private final List<Process> kernels = new ArrayList<>();

  @BeforeEach
  void setUp() {
    database = TestPostgres.freshDatabase(RunsCrashIT.class);
    db = Database.open(database, null, "runs-crash-test");
    openai = FakeProvider.openAi("sk-openai-crash");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (Process kernel : kernels) {
      kernel.destroyForcibly();
      kernel.waitFor();
    }
    openai.close();
    db.close();
    TestPostgres.drop(database);
  }

  private JarKernel start() throws Exception {
    JarKernel kernel =
        JarKernel.start(
            temp.resolve("kernel"), CONFIG, database, Map.of("OPENAI_URL", openai.baseUrl()));
    kernels.add(kernel.process());
    return kernel;
  }

  @Test
  void aKilledKernelResumesEveryRunExactlyOnceInOrder() throws Exception {
    openai.reply("done").delay(Duration.ofMillis(300));
    JarKernel first = start();
    String admin = Files.readString(temp.resolve("kernel/home/admin.token")).strip();

    Map<String, List<String>> byConversation = new HashMap<>();
    Map<String, String> textOf = new HashMap<>();
    for (int i = 0; i < 5; i++) {
      for (int c = 0; c < 10; c++) {
        String conversation = "conv-" + c;
        String text = conversation + "-msg-" + i;
        TestHttp.Response accepted =
            first
                .http()
                .post(
                    "/v1/events",
                    admin,
                    "{\"schema_version\":1,\"type\":\"message\",\"conversation_key\":\""
                        + conversation
                        + "\",\"text\":\""
                        + text
                        + "\"}");
        assertThat(accepted.status()).isEqualTo(202);
        String runId = accepted.json().path("run_id").asText();
        byConversation.computeIfAbsent(conversation, k -> new ArrayList<>()).add(runId);
        textOf.put(runId, text);
      }
    }
    // Mid-way: some runs done, others running or queued.
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (succeeded() < 12 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    first.process().destroyForcibly();
    first.process().waitFor();
    Set<String> doneBeforeKill = succeededRuns();
    int requestsBeforeKill = openai.requests().size();
    System.out.println(
        "killed with "
            + doneBeforeKill.size()
            + " of 50 runs done, "
            + requestsBeforeKill
            + " calls made");
    assertThat(doneBeforeKill.size()).isBetween(12, 49);
    // As if an earlier restart had claimed some runs for its parallel recovery pass and died
    // before resuming them (DBOS's own recovery no longer sees those): this start resumes them too.
    String executor = Files.readString(temp.resolve("kernel/home/executor.id")).strip();
    String claimed = ParallelRecovery.claimedVersion(RunsModule.APP_VERSION);
    int claimedByADeadPass =
        update(
            "UPDATE dbos.workflow_status SET application_version = '"
                + claimed
                + "' WHERE workflow_uuid IN (SELECT workflow_uuid FROM dbos.workflow_status"
                + " WHERE status = 'PENDING' ORDER BY created_at DESC LIMIT 5)");
    assertThat(claimedByADeadPass).isEqualTo(5);

    long restarted = System.nanoTime();
    JarKernel second = start();
    deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (succeeded() < 50 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    System.out.println(
        "all 50 succeeded "
            + Duration.ofNanos(System.nanoTime() - restarted).toMillis()
            + " ms after the restart began");
    assertThat(succeeded()).isEqualTo(50);
    // The local embedding model began to load only once the interrupted runs had been resumed:
    // on a small machine its seconds of CPU would slow them.
    // Lines read "HH:mm:ss.SSS LEVEL Logger message"; the load's line gives how long it took.
    List<String> log = Files.readAllLines(temp.resolve("kernel/stdout.txt"));
    String resumed = line(log, "interrupted run(s) in");
    String loaded = line(log, "loaded all-minilm-l6-v2");
    Matcher took = Pattern.compile(" in (\\d+) ms").matcher(loaded);
    assertThat(took.find()).as(loaded).isTrue();
    // Times of day: a gap that looks like most of a day back is the clock passing midnight.
    long gap =
        Duration.between(
                LocalTime.parse(resumed.substring(0, 12)),
                LocalTime.parse(loaded.substring(0, 12))
                    .minusNanos(Long.parseLong(took.group(1)) * 1_000_000))
            .toMillis();
    if (gap < -Duration.ofHours(12).toMillis()) {
      gap += Duration.ofDays(1).toMillis();
    }
    assertThat(gap)
        .as("ms from the resume pass's end to the model's load: %s / %s", resumed, loaded)
        .isNotNegative();
    // ONNX Runtime read the model from the file unpacked (once) under the kernel's cache.
    try (Stream<Path> models = Files.list(temp.resolve("kernel/home/cache/models"))) {
      assertThat(models.map(p -> p.getFileName().toString()))
          .singleElement(InstanceOfAssertFactories.STRING)
          .matches("all-minilm-l6-v2-[0-9a-f]{8}-90387606\\.onnx");
    }
    // Each interrupted run was resumed once (its second attempt), by this kernel's parallel pass
    // (which marks the version), and none also by DBOS's own recovery (a third attempt).
    String interrupted =
        " AND workflow_uuid <> ALL (ARRAY['" + String.join("','", doneBeforeKill) + "'])";
    assertThat(
            count(
                "SELECT count(*) FROM dbos.workflow_status WHERE executor_id <> '"
                    + executor
                    + "'"))
        .isZero();
    assertThat(
            count(
                "SELECT count(*) FROM dbos.workflow_status WHERE recovery_attempts = 2"
                    + " AND application_version = '"
                    + claimed
                    + "'"
                    + interrupted))
        .isEqualTo(50 - doneBeforeKill.size());
    assertThat(count("SELECT count(*) FROM dbos.workflow_status WHERE recovery_attempts > 2"))
        .isZero();

    // Exactly once: every run's two session messages, once.
    assertThat(count("SELECT count(*) FROM session_messages")).isEqualTo(100);
    // No completed step ran again: a run done before the kill was asked of the provider once.
    Map<String, Integer> asked = new HashMap<>();
    for (FakeProvider.Received request : openai.requests()) {
      JsonNode messages = request.body().path("messages");
      String last = messages.get(messages.size() - 1).path("content").asText();
      asked.merge(last, 1, Integer::sum);
    }
    for (String runId : doneBeforeKill) {
      assertThat(asked.get(textOf.get(runId))).as("calls for %s", textOf.get(runId)).isEqualTo(1);
    }
    // Only runs in flight at the kill (at most one per conversation) could be asked twice.
    assertThat(openai.requests().size()).isLessThanOrEqualTo(50 + 10);
    assertThat(asked.values()).allMatch(n -> n <= 2);

    // In order, one at a time, per conversation.
    for (Map.Entry<String, List<String>> conversation : byConversation.entrySet()) {
      List<String> runs = conversation.getValue();
      Instant previousFinish = Instant.EPOCH;
      for (String runId : runs) {
        JsonNode run = second.http().get("/v1/runs/" + runId, admin).json();
        assertThat(run.path("status").asText()).isEqualTo("succeeded");
        assertThat(Instant.parse(run.path("started_at").asText()))
            .as("%s starts after the run before it finished", runId)
            .isAfterOrEqualTo(previousFinish);
        previousFinish = Instant.parse(run.path("finished_at").asText());
      }
      List<String> expected = new ArrayList<>();
      for (String runId : runs) {
        expected.add(textOf.get(runId));
        expected.add("done");
      }
      assertThat(sessionTexts(conversation.getKey())).containsExactlyElementsOf(expected);
    }
  }

  private int succeeded() throws Exception {
    return count("SELECT count(*) FROM dbos.workflow_status WHERE status = 'SUCCESS'");
  }

  private Set<String> succeededRuns() throws Exception {
    Set<String> ids = new HashSet<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT workflow_uuid FROM dbos.workflow_status WHERE status = 'SUCCESS'");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        ids.add(rs.getString(1));
      }
    }
    return ids;
  }

  private int update(String statement) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      return ps.executeUpdate();
    }
  }

  private int count(String query) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(query);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private List<String> sessionTexts(String conversation) throws Exception {
    List<String> texts = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT content FROM session_messages WHERE conversation_key = ? ORDER BY id")) {
      ps.setString(1, conversation);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          texts.add(rs.getString(1));
        }
      }
    }
    return texts;
  }

  private static String line(List<String> lines, String text) {
    return lines.stream()
        .filter(line -> line.contains(text))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no log line with \"" + text + "\""));
  }
}
