package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.cli.Cli;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seed 001's CLI acceptance: {@code jodo ask "ping" --json} against a running kernel. */
class AskCommandTest {
  record Run(int code, String out, String err) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path temp;
  static DatabaseTarget.External database;
  static FakeProvider openai;
  static Kernel kernel;
  static Map<String, String> env;

  @BeforeAll
  static void start() {
    database = TestPostgres.freshDatabase(AskCommandTest.class);
    openai = FakeProvider.openAi("sk-openai-test");
    Map<String, String> extra = Map.of("OPENAI_URL", openai.baseUrl());
    kernel =
        Kernel.start(
            TestConfigs.kernelConfig(temp, database, RunsApiTest.CONFIG, extra),
            Kernel.Options.defaults());
    env = new HashMap<>(TestConfigs.env(temp.resolve("home"), temp.resolve("configs"), extra));
    env.put("JODO_URL", "http://127.0.0.1:" + kernel.port());
  }

  @AfterAll
  static void stop() {
    kernel.close();
    openai.close();
    TestPostgres.drop(database);
  }

  private static Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Cli.commandLine(env, new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void askPingJsonPrintsRunIdStatusAndOutput() throws Exception {
    openai.reply("pong");
    Run ask = run(env, "ask", "ping", "--json");
    assertThat(ask.code()).as(ask.err()).isZero();
    JsonNode result = JSON.readTree(ask.out());
    assertThat(result.path("run_id").asText()).startsWith("run_");
    assertThat(result.path("status").asText()).isEqualTo("succeeded");
    assertThat(result.path("output").asText()).isEqualTo("pong");

    Run plain = run(env, "ask", "ping again", "--conversation", "cli:other");
    assertThat(plain.code()).isZero();
    assertThat(plain.out()).isEqualTo("pong\n");

    Run got = run(env, "runs", "get", result.path("run_id").asText());
    assertThat(got.code()).isZero();
    assertThat(JSON.readTree(got.out()).path("output").asText()).isEqualTo("pong");
    Run listed = run(env, "runs", "list", "--conversation", "cli:other");
    assertThat(JSON.readTree(listed.out()).path("runs").size()).isEqualTo(1);

    Run queued = run(env, "ask", "later", "--no-wait", "--json");
    assertThat(JSON.readTree(queued.out()).path("status").asText()).isEqualTo("queued");
  }

  @Test
  void aKernelThatIsNotRunningIsOneLineAndExitCodeTwo() throws Exception {
    Map<String, String> nowhere = new HashMap<>(env);
    try (ServerSocket socket = new ServerSocket(0)) {
      nowhere.put("JODO_URL", "http://127.0.0.1:" + socket.getLocalPort() + "/");
    }
    Run ask = run(nowhere, "ask", "ping", "--json");
    assertThat(ask.code()).isEqualTo(2);
    assertThat(ask.out()).isEmpty();
    assertThat(ask.err().strip().lines()).hasSize(1);
    assertThat(ask.err())
        .contains("the kernel is not running at http://127.0.0.1:")
        .contains("jodo up");
    assertThat(run(nowhere, "runs", "list").code()).isEqualTo(2);
  }

  @Test
  void aFailedRunIsReportedWithItsErrorAndExitCodeOne() throws Exception {
    openai.failWith(400, -1);
    try {
      Run ask = run(env, "ask", "this will fail", "--json", "--conversation", "cli:fail");
      assertThat(ask.code()).isEqualTo(1);
      JsonNode result = JSON.readTree(ask.out());
      assertThat(result.path("status").asText()).isEqualTo("failed");
      assertThat(result.path("error").asText()).isNotBlank();
    } finally {
      openai.failWith(400, 0);
    }
  }
}
