package dev.jodo.kernel.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.gateway.provider.ToolCall;
import dev.jodo.kernel.gateway.provider.ToolSpec;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Workspace tools as real subprocesses, with the audit in a real database. */
class WorkspaceToolsTest {
  @TempDir Path workspace;
  private DatabaseTarget.External target;
  private Database database;
  private WorkspaceTools tools;

  @BeforeEach
  void setUp() throws Exception {
    target = TestPostgres.freshDatabase(WorkspaceToolsTest.class);
    database = Database.open(target, null, "tools");
    database.migrate(Database.KERNEL_MIGRATIONS);
    tools =
        new WorkspaceTools(
            workspace,
            database.dataSource(),
            Map.of(
                "PATH", System.getenv("PATH"),
                "HOME", "/tmp",
                "OPENAI_API_KEY", "sk-secret-never-seen",
                "JODO_ADMIN_TOKEN", "jodo_admin_secret"));
  }

  @AfterEach
  void tearDown() {
    database.close();
    TestPostgres.drop(target);
  }

  private void tool(String name, String yaml, String script) throws Exception {
    Path dir = Files.createDirectories(workspace.resolve("tools").resolve(name));
    Files.writeString(dir.resolve("tool.yaml"), yaml);
    if (script != null) {
      Path run = dir.resolve("run.sh");
      Files.writeString(run, "#!/bin/sh\n" + script);
      Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  private static final String ECHO_YAML =
      """
      description: Echoes its arguments.
      parameters:
        type: object
        properties:
          city: {type: string}
        required: [city]
        additionalProperties: false
      command: ["./run.sh"]
      """;

  @Test
  void aValidCallRunsTheToolWithItsArgumentsOnStdinInTheWorkspace() throws Exception {
    tool("echo", ECHO_YAML, "printf 'in %s: ' \"$(pwd)\"; cat\n");
    tool("other", "description: Another.\ncommand: [\"true\"]\n", null);

    List<ToolSpec> offered = tools.offered();
    assertThat(offered).extracting(ToolSpec::name).containsExactly("echo", "other");
    assertThat(offered.get(0).parameters().path("required").get(0).asText()).isEqualTo("city");
    assertThat(offered.get(1).parameters().path("type").asText()).isEqualTo("object");

    Tools.ToolOutcome outcome =
        tools.call("run_1", new ToolCall("c1", "echo", "{\"city\":\"Oslo\"}"));
    assertThat(outcome.error()).isFalse();
    assertThat(outcome.content()).isEqualTo("in " + workspace + ": {\"city\":\"Oslo\"}");
    assertThat(audit()).containsExactly("run_1 echo ok 0");
  }

  @Test
  void argumentsTheSchemaRefusesAreNotRunAndTheModelIsToldWhy() throws Exception {
    tool("echo", ECHO_YAML, "touch ran\ncat\n");

    Tools.ToolOutcome missing = tools.call("run_2", new ToolCall("c1", "echo", "{\"town\":1}"));
    Tools.ToolOutcome notJson = tools.call("run_2", new ToolCall("c2", "echo", "city=Oslo"));
    Tools.ToolOutcome unknown = tools.call("run_2", new ToolCall("c3", "nope", "{}"));

    assertThat(missing.error()).isTrue();
    assertThat(missing.content()).contains("do not fit the tool's schema").contains("city");
    assertThat(notJson.content()).startsWith("the arguments are not JSON");
    assertThat(unknown.content()).isEqualTo("there is no tool nope");
    assertThat(workspace.resolve("ran")).doesNotExist();
    assertThat(audit())
        .containsExactly(
            "run_2 echo refused null", "run_2 echo refused null", "run_2 nope refused null");
  }

  @Test
  void aFailingToolGivesItsExitCodeAndStderrAndTheEnvironmentHoldsNoSecret() throws Exception {
    tool("fails", "description: Fails.\ncommand: [\"./run.sh\"]\n", "env | sort >&2\nexit 3\n");

    Tools.ToolOutcome outcome = tools.call("run_3", new ToolCall("c1", "fails", "{}"));

    assertThat(outcome.error()).isTrue();
    assertThat(outcome.content())
        .startsWith("the tool exited with 3:")
        .contains("JODO_RUN_ID=run_3")
        .contains("JODO_TOOL=fails")
        .contains("HOME=/tmp")
        .doesNotContain("sk-secret-never-seen")
        .doesNotContain("jodo_admin_secret")
        .doesNotContain("OPENAI_API_KEY");
    assertThat(audit()).containsExactly("run_3 fails error 3");
  }

  @Test
  void aToolPastItsTimeoutIsKilledWithItsChildren() throws Exception {
    tool(
        "slow",
        "description: Sleeps.\ntimeout_s: 1\ncommand: [\"./run.sh\"]\n",
        "sleep 30 &\necho $! > child.pid\nwait\n");

    long start = System.nanoTime();
    Tools.ToolOutcome outcome = tools.call("run_4", new ToolCall("c1", "slow", "{}"));
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(outcome.error()).isTrue();
    assertThat(outcome.content()).isEqualTo("the tool timed out after 1 s and was stopped");
    assertThat(took).isLessThan(Duration.ofSeconds(10));
    long child = Long.parseLong(Files.readString(workspace.resolve("child.pid")).strip());
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false))
        .as("the tool's child process")
        .isFalse();
    assertThat(audit()).containsExactly("run_4 slow timeout null");
  }

  @Test
  void theTimeoutHoldsForAToolThatNeverReadsItsLargeArguments() throws Exception {
    tool("deaf", "description: Deaf.\ntimeout_s: 1\ncommand: [\"./run.sh\"]\n", "sleep 20\n");
    String big = "{\"q\":\"" + "x".repeat(300_000) + "\"}";

    long start = System.nanoTime();
    Tools.ToolOutcome outcome = tools.call("run_6", new ToolCall("c1", "deaf", big));

    assertThat(outcome.content()).isEqualTo("the tool timed out after 1 s and was stopped");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
  }

  @Test
  void whatAToolLeavesRunningIsStoppedAndDoesNotHoldTheCall() throws Exception {
    tool(
        "leaves",
        "description: Leaves a child.\ntimeout_s: 2\ncommand: [\"./run.sh\"]\n",
        "(echo $$ > /dev/null; sleep 20) &\necho $! > left.pid\necho started\n");

    long start = System.nanoTime();
    Tools.ToolOutcome outcome = tools.call("run_7", new ToolCall("c1", "leaves", "{}"));

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
    assertThat(outcome.error()).isFalse();
    assertThat(outcome.content()).isEqualTo("started\n");
    long left = Long.parseLong(Files.readString(workspace.resolve("left.pid")).strip());
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (ProcessHandle.of(left).map(ProcessHandle::isAlive).orElse(false)
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(ProcessHandle.of(left).map(ProcessHandle::isAlive).orElse(false))
        .as("the process the tool left behind")
        .isFalse();
  }

  @Test
  void aCallWithoutAToolNameIsRefused() {
    Tools.ToolOutcome outcome = tools.call("run_8", new ToolCall("c1", null, "{}"));
    assertThat(outcome.error()).isTrue();
    assertThat(outcome.content()).isEqualTo("there is no tool null");
  }

  @Test
  void outputPast64KiBIsCut() throws Exception {
    tool(
        "loud",
        "description: Talks.\ncommand: [\"./run.sh\"]\n",
        "yes x | tr -d '\\n' | head -c 200000\n");

    Tools.ToolOutcome outcome = tools.call("run_5", new ToolCall("c1", "loud", "{}"));

    assertThat(outcome.error()).isFalse();
    assertThat(outcome.content())
        .startsWith("x".repeat(WorkspaceTools.MAX_OUTPUT) + "\n[output cut at 64 KiB]");
    assertThat(outcome.content().length()).isLessThan(WorkspaceTools.MAX_OUTPUT + 100);
  }

  @Test
  void aBrokenToolFileIsReportedAndLeftOutWhileAnEditIsPickedUp() throws Exception {
    tool("good", "description: Good.\ncommand: [\"true\"]\n", null);
    tool("nocmd", "description: No command.\n", null);
    tool("extra", "description: X.\ncommand: [\"true\"]\ncolour: red\n", null);
    tool("badyaml", "description: [unclosed\n", null);
    tool("stringy", "description: S.\nparameters: {type: string}\ncommand: [\"true\"]\n", null);
    tool(
        "badschema",
        "description: B.\nparameters: {type: object, properties: {a: {type: 5}}}\n"
            + "command: [\"true\"]\n",
        null);
    tool(
        "loose",
        "description: L.\nrequires_approval: \"yes\"\ntimeout_s: 1.5\ncommand: [\"true\"]\n",
        null);

    assertThat(tools.offered()).extracting(ToolSpec::name).containsExactly("good");
    assertThat(tools.problems())
        .anySatisfy(p -> assertThat(p).startsWith("tools/nocmd/tool.yaml: command: missing"))
        .anySatisfy(p -> assertThat(p).startsWith("tools/extra/tool.yaml: unknown key 'colour'"))
        .anySatisfy(
            p -> assertThat(p).startsWith("tools/badyaml/tool.yaml: cannot read it as YAML"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("tools/stringy/tool.yaml: parameters: expected a JSON Schema with"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("tools/badschema/tool.yaml: parameters: not a valid JSON Schema"))
        .anySatisfy(
            p -> assertThat(p).startsWith("tools/loose/tool.yaml: requires_approval: use true"))
        .hasSize(6);

    Thread.sleep(20); // a new modification time
    tool("nocmd", "description: Now it has one.\ncommand: [\"true\"]\ntimeout_s: 5\n", null);
    assertThat(tools.offered()).extracting(ToolSpec::name).containsExactly("good", "nocmd");
  }

  @Test
  void manyCallsAtOnceLeaveOneAuditRowEach() throws Exception {
    tool("echo", ECHO_YAML, "cat\n");
    List<Callable<Tools.ToolOutcome>> calls = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      String city = "c" + i;
      calls.add(
          () -> tools.call("run_many", new ToolCall("x", "echo", "{\"city\":\"" + city + "\"}")));
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      for (Future<Tools.ToolOutcome> done : pool.invokeAll(calls)) {
        assertThat(done.get().error()).isFalse();
      }
    }
    assertThat(audit()).hasSize(24).containsOnly("run_many echo ok 0");
  }

  private List<String> audit() throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT run_id, tool, outcome, exit_code, arguments_sha256 FROM tool_calls ORDER BY id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        assertThat(rs.getString(5)).hasSize(64);
        rows.add(
            rs.getString(1)
                + " "
                + rs.getString(2)
                + " "
                + rs.getString(3)
                + " "
                + rs.getObject(4));
      }
    }
    return rows;
  }
}
