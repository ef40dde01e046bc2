package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.cli.Cli;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Declarative workflows through real kernels: the step language end to end, a file overriding the
 * built-in {@code message}, a broken file reported with its line while the others work, {@code jodo
 * workflows check}, and a schedule that fires once per tick with two kernels on one database.
 */
class WorkflowFilesTest {
  static final String BRIEF =
      """
      description: A briefing from memory, the model and a tool.
      steps:
        - remember: {content: "The human likes tea.", tags: [prefs]}
        - recall: {query: "{{event.text}}", limit: 3, as: memories}
        - think: {prompt: "Brief on {{event.text}} using {{memories}}", as: brief}
        - tool: {name: clock, arguments: {zone: "{{event.user_key}}"}, as: time}
        - call: {workflow: echo, text: "{{brief}}", as: echoed}
        - reply: "{{echoed}} at {{time}}"
      """;

  static final String ECHO =
      """
      steps:
        - reply: "echo: {{event.text}}"
      """;

  static final String MESSAGE =
      """
      description: Overrides the built-in turn.
      steps:
        - think: {prompt: "Override: {{event.text}}", as: said}
        - reply: "{{said}}!"
      """;

  static final String BROKEN =
      """
      steps:
        - think: {prompt: "ok"}
        - dance: {moves: 3}
        - reply: "{{nowhere}}"
      """;

  @TempDir Path temp;
  private DatabaseTarget.External database;
  private FakeProvider openai;
  private final List<Kernel> kernels = new ArrayList<>();
  private Path workspace;

  @BeforeEach
  void setUp() throws Exception {
    database = TestPostgres.freshDatabase(WorkflowFilesTest.class);
    openai = FakeProvider.openAi("sk-openai-test");
    workspace = temp.resolve("workspace");
    Files.createDirectories(workspace.resolve("workflows"));
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
                Map.of("OPENAI_URL", openai.baseUrl(), "JODO_WORKSPACE_DIR", workspace.toString())),
            Kernel.Options.defaults());
    kernels.add(kernel);
    return kernel;
  }

  private void write(String file, String text) throws Exception {
    Files.writeString(workspace.resolve("workflows").resolve(file), text);
  }

  @Test
  void theStepsRunInOrderAndAFileOverridesTheBuiltInMessageWhileABrokenOneIsLeftOut()
      throws Exception {
    write("brief.yaml", BRIEF);
    write("echo.yaml", ECHO);
    write("message.yaml", MESSAGE);
    write("broken.yaml", BROKEN);
    openai.reply("Tea time");
    Kernel kernel = start("k");
    String admin = kernel.firstBootAdminToken().orElseThrow().value();
    TestHttp http = new TestHttp(kernel.port());

    JsonNode brief =
        TestRuns.finished(http, admin, TestRuns.post(http, admin, "brief", "c1", "morning"));
    assertThat(brief.path("status").asText()).as(brief.toString()).isEqualTo("succeeded");
    // No tools are installed: the tool step's error is its result, and the run goes on.
    assertThat(brief.path("output").asText())
        .isEqualTo("echo: Tea time at error: there is no tool clock");
    JsonNode think = openai.requests().get(0).body().path("messages");
    assertThat(think.get(think.size() - 1).path("content").asText())
        .isEqualTo("Brief on morning using - The human likes tea.");
    assertThat(brief.path("steps").findValuesAsText("name"))
        .containsExactly("remember", "think", "tool:clock");

    JsonNode message =
        TestRuns.finished(http, admin, TestRuns.post(http, admin, "message", "c2", "hi"));
    assertThat(message.path("output").asText()).isEqualTo("Tea time!");
    JsonNode override = openai.requests().get(1).body().path("messages");
    assertThat(override.get(override.size() - 1).path("content").asText())
        .isEqualTo("Override: hi");

    TestHttp.Response refused =
        http.post(
            "/v1/events",
            admin,
            "{\"schema_version\":1,\"type\":\"broken\",\"conversation_key\":\"c3\",\"text\":\"x\"}");
    assertThat(refused.status()).isEqualTo(400);
    assertThat(refused.body()).contains("'broken' is not a workflow").contains("brief");

    // Fixing the file is picked up by the next event, without a restart.
    write("broken.yaml", ECHO);
    JsonNode fixed =
        TestRuns.finished(http, admin, TestRuns.post(http, admin, "broken", "c3", "now"));
    assertThat(fixed.path("output").asText()).isEqualTo("echo: now");
  }

  @Test
  void theSampleAFreshWorkspaceGetsIsAValidWorkflowOnceRenamed() throws Exception {
    Path fresh = temp.resolve("fresh");
    Workspace.open(fresh, temp.resolve("home"));
    String sample = Files.readString(fresh.resolve("workflows/hello.yaml.sample"));
    WorkflowFile hello = WorkflowFile.parse("hello.yaml", sample);
    assertThat(hello.steps()).hasSize(3);
    assertThat(RunsModule.checkWorkflows(fresh).problems()).isEmpty();
    assertThat(RunsModule.checkWorkflows(fresh).workflows()).as("not loaded as is").isEmpty();
  }

  @Test
  void workflowsCheckListsTheValidFilesAndEveryProblemWithItsLine() throws Exception {
    write("echo.yaml", ECHO);
    write("broken.yaml", BROKEN);
    write("badcron.yaml", "schedule: \"every day\"\nsteps:\n  - reply: hi\n");
    Map<String, String> env =
        new HashMap<>(
            TestConfigs.env(
                temp.resolve("home"),
                TestConfigs.directory(
                    temp.resolve("cfg"), TestConfigs.MINIMAL_CONFIG, TestConfigs.GENESIS),
                Map.of("JODO_WORKSPACE_DIR", workspace.toString())));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Cli.commandLine(env, new PrintWriter(out, true), new PrintWriter(err, true))
            .execute("workflows", "check");

    assertThat(code).isEqualTo(2);
    assertThat(out.toString()).contains("ok: echo");
    assertThat(err.toString())
        .contains("3 problems")
        .contains("broken.yaml:3: unknown step 'dance'; use one of agent, call, recall,")
        .contains("broken.yaml:4: {{nowhere}} is not set here")
        .contains("badcron.yaml:1: schedule 'every day' is not a cron of six fields");
  }

  @Test
  void aScheduledWorkflowRunsOncePerTickWithTwoKernels() throws Exception {
    write(
        "tick.yaml",
        """
        schedule: "* * * * * *"
        conversation_key: ticks
        steps:
          - think: {prompt: "tick", as: t}
          - reply: "{{t}}"
        """);
    openai.reply("tock");
    Kernel a = start("a");
    start("b");

    awaitTrue(
        () ->
            count(a, "SELECT count(*) FROM conversation_runs WHERE finished_at IS NOT NULL") >= 4);
    kernels.forEach(Kernel::close); // no tick fires while the counts are taken
    kernels.clear();

    try (Connection c =
        DriverManager.getConnection(
            database.jdbcUrl(), database.user(), database.password().value())) {
      long ticks =
          countOn(
              c,
              "SELECT count(*) FROM dbos.workflow_status"
                  + " WHERE name = 'scheduled' AND status = 'SUCCESS'");
      long fired = countOn(c, "SELECT count(*) FROM dbos.workflow_status WHERE name = 'scheduled'");
      long runs =
          countOn(c, "SELECT count(*) FROM conversation_runs WHERE conversation_key = 'ticks'");
      long thought =
          countOn(
              c,
              "SELECT count(*) FROM dbos.operation_outputs o"
                  + " JOIN dbos.workflow_status w ON w.workflow_uuid = o.workflow_uuid"
                  + " WHERE w.name = 'workflow' AND o.function_name = 'think'"
                  + " AND o.completed_at_epoch_ms IS NOT NULL");
      assertThat(ticks).isGreaterThanOrEqualTo(4);
      // Both kernels had the schedule, yet each tick made one run (a tick still in flight when
      // the kernels stopped may or may not have made its run yet).
      assertThat(runs).isBetween(ticks, fired);
      // And each run asked the model once.
      assertThat((long) openai.requests().size()).isEqualTo(thought).isLessThanOrEqualTo(runs);
    }
  }

  private static long count(Kernel kernel, String sql) {
    try (Connection c = kernel.database().dataSource().getConnection()) {
      return countOn(c, sql);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static long countOn(Connection c, String sql) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("timed out").isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
