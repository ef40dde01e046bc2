package dev.jodo.kernel.platform.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.testing.TestConfigs;
import java.math.BigDecimal;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path temp;

  private KernelConfig load(String config, Map<String, String> env) {
    Path dir = TestConfigs.directory(temp, config, TestConfigs.GENESIS);
    return new ConfigLoader(TestConfigs.env(temp.resolve("home"), dir, env)).load();
  }

  private List<String> problems(String config, Map<String, String> env) {
    Path dir = TestConfigs.directory(temp, config, TestConfigs.GENESIS);
    return new ConfigLoader(TestConfigs.env(temp.resolve("home"), dir, env))
        .check().stream().map(ConfigProblem::toString).toList();
  }

  @Test
  void repositoryConfigsAreValid() {
    Path repoConfigs = Path.of("configs").toAbsolutePath();
    KernelConfig config =
        new ConfigLoader(
                Map.of("JODO_CONFIG_DIR", repoConfigs.toString(), "JODO_HOME", temp.toString()))
            .load();
    assertThat(config.port()).isEqualTo(8080);
    assertThat(config.providers()).containsOnlyKeys("claude", "openai", "ollama");
    assertThat(config.agents()).extracting(AgentConfig::name).containsExactly("jodo");
    assertThat(config.agents().get(0).brainDir(temp)).isEqualTo(temp.resolve("agents/jodo/brain"));
    assertThat(config.genesis().path("identity").path("name").asText()).isEqualTo("Jodo");
    assertThat(config.database()).isInstanceOf(DatabaseTarget.Private.class);
    assertThat(config.routing().preferencesFor("code"))
        .containsExactly("claude", "openai", "ollama");
  }

  @Test
  void exampleConfigDocumentsEveryKeyAndIsValid() throws Exception {
    Path dir = Files.createDirectories(temp.resolve("example"));
    Files.copy(Path.of("configs/config.example.yaml"), dir.resolve("config.yaml"));
    Files.copy(Path.of("configs/genesis.yaml"), dir.resolve("genesis.yaml"));
    KernelConfig config =
        new ConfigLoader(
                Map.of(
                    "JODO_CONFIG_DIR", dir.toString(),
                    "JODO_HOME", temp.toString(),
                    "JODO_DB_PASSWORD", "pw",
                    "CLAUDE_API_KEY", "sk-ant-test",
                    "OPENAI_API_KEY", "sk-test"))
            .load();
    assertThat(config.database()).isInstanceOf(DatabaseTarget.External.class);
    assertThat(((DatabaseTarget.External) config.database()).jdbcUrl())
        .isEqualTo("jdbc:postgresql://localhost:5432/jodo_kernel");
    assertThat(config.providers().values()).allMatch(ProviderConfig::enabled);
    assertThat(config.agents().get(0).sshUser()).contains("root");
    QuotaConfig.Limits jodo = config.quotas().limitsFor("jodo");
    assertThat(jodo.requestsPerMinute()).hasValue(120);
    assertThat(jodo.tokensPerDay()).hasValue(2_000_000); // from the defaults
    assertThat(config.quotas().limitsFor("someone-else").requestsPerMinute()).isEmpty();
    assertThat(
            config
                .providers()
                .get("claude")
                .models()
                .get("claude-sonnet-4-20250514")
                .maxOutputTokens())
        .hasValue(64000);
    assertThat(config.providers().get("claude").queueTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void quotaProblemsNameTheKey() {
    assertThat(
            problems(
                """
                quotas:
                  defaults: {requests_per_minute: 0}
                  agents:
                    jodo: {tokens_per_hour: 5, cost_per_month: "cheap"}
                """,
                Map.of()))
        .containsExactlyInAnyOrder(
            "config.yaml: quotas.defaults.requests_per_minute: '0' is out of range; use a value from 1 to 1000000",
            "config.yaml: quotas.agents.jodo.tokens_per_hour: unknown key; did you mean 'tokens_per_day'?",
            "config.yaml: quotas.agents.jodo.cost_per_month: 'cheap' is not a number; use a decimal such as 0.50 (USD)");
  }

  @Test
  void seedValuesAreReadWithTheirTypes() {
    KernelConfig config =
        load(
            """
            kernel: {port: 9090, health_check_interval: 5, max_restart_attempts: 4, log_level: debug}
            providers:
              claude:
                api_key: "${CLAUDE_API_KEY}"
                models:
                  claude-sonnet-4-20250514:
                    input_cost_per_1m_tokens: 3.00
                    output_cost_per_1m_tokens: 15.00
                    capabilities: [code, chat, reasoning, repair]
                    quality: 9
                monthly_budget: 20.00
                emergency_reserve: 2.00
                timeout_seconds: 30
            """,
            Map.of("CLAUDE_API_KEY", "sk-ant-secret-value"));
    assertThat(config.port()).isEqualTo(9090);
    assertThat(config.healthCheckIntervalSeconds()).isEqualTo(5);
    assertThat(config.maxRestartAttempts()).isEqualTo(4);
    assertThat(config.logLevel()).isEqualTo("debug");
    ProviderConfig claude = config.providers().get("claude");
    assertThat(claude.type()).isEqualTo(ProviderType.ANTHROPIC);
    assertThat(claude.baseUrl()).isEqualTo(URI.create("https://api.anthropic.com"));
    assertThat(claude.apiKey()).map(Secret::value).contains("sk-ant-secret-value");
    assertThat(claude.timeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(claude.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(claude.monthlyBudget()).isEqualByComparingTo(new BigDecimal("20.00"));
    ModelConfig model = claude.models().get("claude-sonnet-4-20250514");
    assertThat(model.inputCostPer1mTokens()).isEqualByComparingTo("3.00");
    assertThat(model.capabilities())
        .containsExactlyInAnyOrder("code", "chat", "reasoning", "repair");
    assertThat(model.quality()).isEqualTo(9);
    assertThat(claude.toString()).doesNotContain("sk-ant-secret-value");
  }

  @Test
  void environmentVariablesAndDefaultsAreInterpolated() {
    KernelConfig config =
        load(
            """
            kernel: {port: "${PORT_FROM_ENV}", log_level: "${LEVEL:-warn}"}
            providers:
              local-llm:
                type: openai
                base_url: "${LLM_URL:-http://127.0.0.1:8000/v1}"
                models:
                  m: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [chat]}
            """,
            Map.of("PORT_FROM_ENV", "7070"));
    assertThat(config.port()).isEqualTo(7070);
    assertThat(config.logLevel()).isEqualTo("warn");
    assertThat(config.providers().get("local-llm").baseUrl())
        .isEqualTo(URI.create("http://127.0.0.1:8000/v1"));
    assertThat(config.providers().get("local-llm").enabled()).isTrue();
  }

  @Test
  void providerWithUnsetKeyIsDisabledWithAWarningAndTheKernelStillLoads() {
    KernelConfig config =
        load(
            """
            providers:
              openai:
                api_key: "${OPENAI_API_KEY}"
                models:
                  gpt-4o-mini: {input_cost_per_1m_tokens: 0.15, output_cost_per_1m_tokens: 0.60, capabilities: [chat]}
            """,
            Map.of());
    ProviderConfig openai = config.providers().get("openai");
    assertThat(openai.enabled()).isFalse();
    assertThat(openai.disabledReason()).contains("its API key variable OPENAI_API_KEY is not set");
    assertThat(config.warnings())
        .containsExactly(
            "provider openai is disabled: its API key variable OPENAI_API_KEY is not set");
  }

  @Test
  void noProvidersAtAllStillLoads() {
    KernelConfig config = load("kernel: {port: 8081}\n", Map.of());
    assertThat(config.providers()).isEmpty();
  }

  @Test
  void environmentOverridesWin() {
    KernelConfig config =
        load(
            "kernel: {port: 8081}\n",
            Map.of(
                "JODO_PORT", "9191",
                "JODO_LOG_FORMAT", "json",
                "JODO_ADMIN_TOKEN", "0123456789abcdef0123",
                "JODO_DATABASE_URL",
                    "postgres://jodo:s%40cret@db.example:6543/kernel?sslmode=require"));
    assertThat(config.port()).isEqualTo(9191);
    assertThat(config.logFormat()).isEqualTo(LogFormat.JSON);
    assertThat(config.adminToken()).map(Secret::value).contains("0123456789abcdef0123");
    DatabaseTarget.External db = (DatabaseTarget.External) config.database();
    assertThat(db.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/kernel?sslmode=require");
    assertThat(db.user()).isEqualTo("jodo");
    assertThat(db.password().value()).isEqualTo("s@cret");
    assertThat(db.toString()).doesNotContain("s@cret");
    assertThat(config.home()).isEqualTo(temp.resolve("home"));
  }

  @Test
  void jdbcDatabaseUrlIsAcceptedAsIs() {
    DatabaseTarget.External db =
        DatabaseUrls.parse("jdbc:postgresql://127.0.0.1:5432/jodo?user=u&password=p%26q", 10);
    assertThat(db.jdbcUrl())
        .isEqualTo("jdbc:postgresql://127.0.0.1:5432/jodo?user=u&password=p%26q");
    assertThat(db.user()).isEqualTo("u");
    assertThat(db.password().value()).isEqualTo("p&q");
  }

  @Test
  void everyProblemIsListedOnItsOwnLineWithPathValueAndFix() {
    List<String> problems =
        problems(
            """
            kernel:
              port: "abc"
              helth_check_interval: 5
              log_level: loud
            providers:
              claude:
                base_url: "https://api.anthropic.com/v1"
                models:
                  sonnet:
                    input_cost_per_1m_tokens: "three"
                    capabilities: chat
                monthly_budget: 5
                emergency_reserve: 10
              groq:
                models:
                  llama: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [chat]}
            routing:
              strategy: cheapest
              intent_preferences:
                chat: [openai]
                dance: [claude]
            """,
            Map.of());
    assertThat(problems)
        .containsExactlyInAnyOrder(
            "config.yaml: kernel.helth_check_interval: unknown key; did you mean 'health_check_interval'?",
            "config.yaml: kernel.port: 'abc' is not a whole number; use a value from 1 to 65535",
            "config.yaml: kernel.log_level: 'loud' is not allowed; use one of debug, error, info, trace, warn",
            "config.yaml: providers.claude.base_url: 'https://api.anthropic.com/v1' ends in /v1, but anthropic clients add the API path themselves; use https://api.anthropic.com",
            "config.yaml: providers.claude.models.sonnet.input_cost_per_1m_tokens: 'three' is not a number; use a decimal such as 0.50 (USD per million tokens)",
            "config.yaml: providers.claude.models.sonnet.output_cost_per_1m_tokens: missing; set it to a decimal such as 0.50 (USD per million tokens)",
            "config.yaml: providers.claude.models.sonnet.capabilities: expected a list such as [a, b], found 'chat'",
            "config.yaml: providers.claude.emergency_reserve: '10' is more than monthly_budget 5; make the reserve smaller than the budget",
            "config.yaml: providers.groq.type: missing, and the name 'groq' does not imply one; set type to anthropic, openai or ollama",
            "config.yaml: routing.strategy: 'cheapest' is not allowed; use one of best_affordable",
            "config.yaml: routing.intent_preferences.dance: unknown key; known keys here are chat, code, embed, quick, repair",
            "config.yaml: routing.intent_preferences.chat[0]: 'openai' is not allowed; name a provider from the providers section (claude)");
  }

  @Test
  void loadThrowsOneExceptionListingAllProblems() {
    assertThatThrownBy(() -> load("kernel: {port: 0}\ncolour: blue\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            """
            configuration has 2 problems:
              config.yaml: colour: unknown key; known keys here are agents, database, jodo, kernel, memory, providers, quotas, routing, runs
              config.yaml: kernel.port: '0' is out of range; use a value from 1 to 65535""");
  }

  @Test
  void unsetVariableOutsideASecretIsAProblem() {
    assertThat(problems("kernel: {log_level: \"${LOG_LEVEL}\"}\n", Map.of()))
        .containsExactly(
            "config.yaml: kernel.log_level: environment variable LOG_LEVEL is not set; export LOG_LEVEL or give a default with ${LOG_LEVEL:-value}");
  }

  @Test
  void badEnvironmentOverridesAreProblems() {
    assertThat(
            problems(
                "{}\n",
                Map.of(
                    "JODO_PORT", "80a",
                    "JODO_LOG_FORMAT", "xml",
                    "JODO_DATABASE_URL", "mysql://root:hunter2@localhost/db",
                    "JODO_ADMIN_TOKEN", "short")))
        .containsExactlyInAnyOrder(
            "environment: JODO_PORT: '80a' is not a port; use a whole number from 1 to 65535",
            "environment: JODO_LOG_FORMAT: 'xml' is not allowed; use json or pretty",
            "environment: JODO_DATABASE_URL: 'mysql://root:****@localhost/db' is not a PostgreSQL URL; use jdbc:postgresql://host:5432/db?user=u&password=p or postgres://u:p@host:5432/db",
            "environment: JODO_ADMIN_TOKEN: is shorter than 16 characters; use a long random value, e.g. `openssl rand -hex 24`");
  }

  @Test
  void missingAndMalformedFilesAreReported() throws Exception {
    Path dir = Files.createDirectories(temp.resolve("empty"));
    Files.writeString(dir.resolve("config.example.yaml"), "kernel: {}\n");
    Map<String, String> env = new HashMap<>(TestConfigs.env(temp, dir, Map.of()));
    assertThat(new ConfigLoader(env).check().stream().map(ConfigProblem::toString))
        .containsExactly(
            "config.yaml: (file): not found at "
                + dir.resolve("config.yaml")
                + "; copy config.example.yaml to "
                + dir.resolve("config.yaml"),
            "genesis.yaml: (file): not found at "
                + dir.resolve("genesis.yaml")
                + "; create it, or point JODO_CONFIG_DIR at the directory that holds it");

    Files.writeString(dir.resolve("config.yaml"), "kernel:\n  port: [8080\n");
    Files.writeString(dir.resolve("genesis.yaml"), "purpose: no name\n");
    List<String> problems =
        new ConfigLoader(env).check().stream().map(ConfigProblem::toString).toList();
    assertThat(problems).hasSize(2);
    assertThat(problems.get(0))
        .isEqualTo(
            "config.yaml: (file): is not valid YAML at line 2, column 14: while parsing a flow sequence; expected ',' or ']', but got <stream end>");
    assertThat(problems.get(1))
        .isEqualTo(
            "genesis.yaml: identity.name: missing; give the agent a name, e.g. identity: {name: \"Jodo\"}");
  }

  @Test
  void remoteAgentHostNeedsSshSettings() {
    assertThat(
            problems("jodo: {host: 10.0.0.2, port: 9000, brain_path: /opt/jodo/brain}\n", Map.of()))
        .containsExactlyInAnyOrder(
            "config.yaml: jodo.ssh_user: missing for remote host '10.0.0.2'; set the SSH user",
            "config.yaml: jodo.ssh_key_path: missing for remote host '10.0.0.2'; set the private key's path");
  }

  @Test
  void remoteAgentHostNeedsABrainPathToo() {
    assertThat(
            problems(
                "jodo: {host: 10.0.0.2, ssh_user: jodo, ssh_key_path: /k, ssh_port: 70000}\n",
                Map.of()))
        .containsExactlyInAnyOrder(
            "config.yaml: jodo.brain_path: missing for remote host '10.0.0.2'; set the brain's directory there, e.g. /opt/jodo/brain",
            "config.yaml: jodo.ssh_port: '70000' is out of range; use a value from 1 to 65535");
  }

  @Test
  void theAgentsListAddsAgentsWithTheSameKeysAndANameEach() {
    KernelConfig config =
        load(
            """
            jodo: {port: 9000}
            agents:
              - name: Scout
                port: 9001
                command: "python3 -u main.py"
              - name: remote
                host: 10.0.0.7
                ssh_port: 2222
                ssh_user: jodo
                ssh_key_path: /keys/jodo
                brain_path: /opt/remote/brain
                port: 9000
            """,
            Map.of());
    assertThat(config.agents())
        .extracting(AgentConfig::name)
        .containsExactly("jodo", "scout", "remote");
    AgentConfig scout = config.agent("scout").orElseThrow();
    assertThat(scout.isLocal()).isTrue();
    assertThat(scout.commandWords()).containsExactly("python3", "-u", "main.py");
    assertThat(scout.home(temp)).isEqualTo(temp.resolve("agents/scout"));
    AgentConfig remote = config.agent("remote").orElseThrow();
    assertThat(remote.sshPort()).isEqualTo(2222);
    assertThat(remote.brainDir(temp)).isEqualTo(Path.of("/opt/remote/brain"));
    assertThat(remote.home(temp)).isEqualTo(Path.of("/opt/remote/brain.jodo"));
  }

  @Test
  void withoutAJodoBlockOrAnAgentsListNoAgentIsSupervised() {
    assertThat(load("kernel: {port: 8080}\n", Map.of()).agents()).isEmpty();
  }

  @Test
  void agentsMustHaveDistinctNamesPortsAndBrains() {
    assertThat(
            problems(
                """
                jodo: {port: 9000}
                agents:
                  - {name: jodo, port: 9100}
                  - {port: 9200}
                  - {name: "bad name!", port: 9300}
                  - {name: twin, port: 9000}
                  - {name: copy, port: 9400, brain_path: /srv/a}
                  - {name: copy2, port: 9500, brain_path: /srv/a/}
                  - {name: rel, port: 9600, brain_path: brains/rel}
                  - "just a string"
                """,
                Map.of()))
        .containsExactlyInAnyOrder(
            "config.yaml: agents[0].name: 'jodo' is already an agent (the genesis agent of jodo:); give each agent its own name",
            "config.yaml: agents[1].name: missing; give each agent a name, e.g. name: \"scout\"",
            "config.yaml: agents[2].name: 'bad name!' cannot name an agent; use letters, digits, '-' or '_' (at most 50)",
            "config.yaml: agents[3].port: 9000 is already agent 'jodo''s port on host 'local'; give each agent on a host its own port",
            "config.yaml: agents[5].brain_path: '/srv/a' is already agent 'copy''s brain; give each agent its own brain_path",
            "config.yaml: agents[6].brain_path: 'brains/rel' is not absolute; e.g. /opt/jodo/brain",
            "config.yaml: agents[7]: expected a mapping of keys to values, found 'just a string'");
  }

  @Test
  void telegramIsOffWithoutATokenAndItsVariablesAreChecked() {
    assertThat(load("kernel: {port: 8080}\n", Map.of()).telegram()).isEmpty();
    TelegramConfig on =
        load(
                "kernel: {port: 8080}\n",
                Map.of(
                    "JODO_TELEGRAM_BOT_TOKEN", "1:abc",
                    "JODO_TELEGRAM_INGEST_MODE", "webhook",
                    "JODO_TELEGRAM_ALLOWED_USERS", "42, 7"))
            .telegram()
            .orElseThrow();
    assertThat(on.mode()).isEqualTo(TelegramConfig.Mode.WEBHOOK);
    assertThat(on.webhookPath()).isEqualTo("/telegram/webhook");
    assertThat(on.apiUrl()).isEqualTo("https://api.telegram.org");
    assertThat(on.allowedUsers()).containsExactlyInAnyOrder(42L, 7L);
    assertThat(
            problems(
                "kernel: {port: 8080}\n",
                Map.of(
                    "JODO_TELEGRAM_BOT_TOKEN", "1:abc",
                    "JODO_TELEGRAM_INGEST_MODE", "push",
                    "JODO_TELEGRAM_ALLOWED_USERS", "42,ada")))
        .containsExactlyInAnyOrder(
            "environment: JODO_TELEGRAM_INGEST_MODE: 'push' is not a mode; use polling or webhook",
            "environment: JODO_TELEGRAM_ALLOWED_USERS: 'ada' is not a Telegram user id; list"
                + " numeric ids, comma-separated");
  }

  @Test
  void theRunsSectionHasDefaultsAndRanges() {
    assertThat(load("kernel: {port: 8080}\n", Map.of()).runs()).isEqualTo(RunsConfig.DEFAULTS);
    assertThat(
            load("runs: {max_concurrent: 4, max_turns: 3, compact_after_tokens: 2000}\n", Map.of())
                .runs())
        .isEqualTo(new RunsConfig(4, 3, 2000));
    assertThat(
            problems(
                "runs: {max_concurrent: 0, parallel: 2, max_turns: 0, compact_after_tokens: 10}\n",
                Map.of()))
        .containsExactlyInAnyOrder(
            "config.yaml: runs.max_concurrent: '0' is out of range; use a value from 1 to 1024",
            "config.yaml: runs.max_turns: '0' is out of range; use a value from 1 to 100",
            "config.yaml: runs.compact_after_tokens: '10' is out of range; use a value from 500"
                + " to 1000000",
            "config.yaml: runs.parallel: unknown key; known keys here are compact_after_tokens,"
                + " max_concurrent, max_turns");
  }

  @Test
  void theWorkspaceIsUnderJodoHomeUnlessJodoWorkspaceDirSaysOtherwise() {
    assertThat(load("kernel: {port: 8080}\n", Map.of()).workspaceDir())
        .isEqualTo(temp.resolve("home/workspace"));
    assertThat(
            load(
                    "kernel: {port: 8080}\n",
                    Map.of("JODO_WORKSPACE_DIR", temp.resolve("ws").toString()))
                .workspaceDir())
        .isEqualTo(temp.resolve("ws"));
  }
}
