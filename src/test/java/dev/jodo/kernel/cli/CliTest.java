package dev.jodo.kernel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
  @TempDir static Path temp;
  private static DatabaseTarget.External database;

  @BeforeAll
  static void database() {
    database = TestPostgres.freshDatabase(CliTest.class);
  }

  @AfterAll
  static void drop() {
    TestPostgres.drop(database);
  }

  record Run(int code, String out, String err) {}

  private static Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Cli.commandLine(env, new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private static Map<String, String> env(String config, Map<String, String> extra) {
    Path dir =
        TestConfigs.directory(temp.resolve("c" + System.nanoTime()), config, TestConfigs.GENESIS);
    Map<String, String> env = new HashMap<>(TestConfigs.env(temp.resolve("home"), dir, extra));
    return env;
  }

  private static Map<String, String> withDatabase() {
    String url =
        database.jdbcUrl()
            + (database.jdbcUrl().contains("?") ? "&" : "?")
            + "user="
            + database.user()
            + "&password="
            + database.password().value();
    return env(TestConfigs.MINIMAL_CONFIG, Map.of("JODO_DATABASE_URL", url));
  }

  @Test
  void noArgumentsPrintsHelp() {
    Run run = run(Map.of());
    assertThat(run.code()).isZero();
    assertThat(run.out())
        .startsWith("Usage: jodo [-hV] [COMMAND]")
        .contains("  up         Start the kernel")
        .contains("  token      Show the admin token")
        .contains("  workflows  Inspect the workspace's declarative workflows.")
        .contains("./jodo test runs the whole test suite");
  }

  @Test
  void versionPrintsTheVersion() {
    assertThat(run(Map.of(), "version").out()).isEqualTo("jodo-kernel 0.1.0\n");
  }

  @Test
  void configCheckListsEveryProblemAndExitsTwo() {
    Run run = run(env("kernel: {port: nope, colour: red}\n", Map.of()), "config", "check");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err())
        .contains("2 problems in ")
        .contains("  config.yaml: kernel.colour: unknown key; known keys here are ")
        .contains(
            "  config.yaml: kernel.port: 'nope' is not a whole number; use a value from 1 to 65535");
  }

  @Test
  void configCheckReportsAValidConfigWithItsWarnings() {
    Run run =
        run(
            env(
                """
                providers:
                  openai:
                    api_key: "${OPENAI_API_KEY}"
                    models:
                      gpt: {input_cost_per_1m_tokens: 1, output_cost_per_1m_tokens: 2, capabilities: [chat]}
                """,
                Map.of()),
            "config",
            "check");
    assertThat(run.code()).isZero();
    assertThat(run.out())
        .contains(
            "warning: provider openai is disabled: its API key variable OPENAI_API_KEY is not set")
        .contains("is valid: 1 providers (0 enabled), port 8080");
  }

  @Test
  void upWithABadConfigPrintsTheProblemsAndDoesNotStart() {
    Run run = run(env("kernel: {port: 70000}\n", Map.of()), "up");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err())
        .contains("config.yaml: kernel.port: '70000' is out of range; use a value from 1 to 65535")
        .contains("`jodo config check` lists them without starting");
  }

  @Test
  void tokenWithoutAStoredTokenExplainsWhereItComesFrom() {
    Run run = run(env(TestConfigs.MINIMAL_CONFIG, Map.of()), "token");
    assertThat(run.code()).isEqualTo(1);
    assertThat(run.err()).contains("no admin token is stored in ").contains("jodo token --rotate");
  }

  @Test
  void tokenFromEnvironmentIsShownMaskedAndCannotBeRotated() {
    Map<String, String> env =
        env(TestConfigs.MINIMAL_CONFIG, Map.of("JODO_ADMIN_TOKEN", "supersecretadmintoken123"));
    Run show = run(env, "token");
    assertThat(show.out()).isEqualTo("the admin token is set by JODO_ADMIN_TOKEN (supe****)\n");
    Run rotate = run(env, "token", "--rotate");
    assertThat(rotate.code()).isEqualTo(1);
    assertThat(rotate.err()).contains("change that variable and restart instead");
  }

  @Test
  void agentTokensAreCreatedListedAndRevokedAgainstTheDatabase() {
    Map<String, String> env = withDatabase();
    Run created = run(env, "token", "create", "--agent", "jodo", "--scopes", "think,memory");
    assertThat(created.code()).isZero();
    String token = created.out().strip();
    assertThat(token).startsWith("jodo_agent_").hasSize("jodo_agent_".length() + 43);
    assertThat(created.err())
        .contains("for agent jodo with scopes memory,think (shown once; store it now)");

    Run list = run(env, "token", "list");
    assertThat(list.out())
        .contains("jodo")
        .contains("memory,think")
        .contains("live")
        .doesNotContain(token);

    String id = created.err().replaceAll("(?s)^token (\\d+) .*$", "$1");
    assertThat(run(env, "token", "revoke", id).out()).isEqualTo("revoked token " + id + "\n");
    assertThat(run(env, "token", "list").out()).contains("revoked");
    Run again = run(env, "token", "revoke", id);
    assertThat(again.code()).isEqualTo(1);
    assertThat(again.err()).isEqualTo("no live agent token with id " + id + "\n");
  }

  @Test
  void unknownScopeIsAUsageError() {
    Run run = run(withDatabase(), "token", "create", "--agent", "jodo", "--scopes", "think,root");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo(
            "--scopes: 'root' is not a scope; use think, memory, budget, status, genesis, commit, history, events, runs\n");
  }

  @Test
  void rotateWritesTheNewTokenToTheHomeFile() throws Exception {
    Map<String, String> env = withDatabase();
    Run rotated = run(env, "token", "--rotate");
    assertThat(rotated.code()).isZero();
    String token = rotated.out().strip();
    assertThat(token).startsWith("jodo_admin_");
    assertThat(run(env, "token").out().strip()).isEqualTo(token);
  }
}
