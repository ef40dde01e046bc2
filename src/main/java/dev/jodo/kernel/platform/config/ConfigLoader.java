package dev.jodo.kernel.platform.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads {@code config.yaml} and {@code genesis.yaml} from {@code JODO_CONFIG_DIR} and applies the
 * {@code JODO_*} environment overrides. Every problem is collected; {@link #load()} throws one
 * {@link ConfigException} listing them all.
 *
 * <pre>{@code
 * KernelConfig config = new ConfigLoader(System.getenv()).load();
 * }</pre>
 */
public final class ConfigLoader {
  public static final String CONFIG_FILE = "config.yaml";
  public static final String GENESIS_FILE = "genesis.yaml";

  private final Map<String, String> env;
  private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

  public ConfigLoader(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /** The validated configuration, or a {@link ConfigException} naming every problem. */
  public KernelConfig load() {
    List<ConfigProblem> problems = new ArrayList<>();
    KernelConfig config = read(problems);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  /** Every problem, for {@code jodo config check}; empty when the configuration is valid. */
  public List<ConfigProblem> check() {
    List<ConfigProblem> problems = new ArrayList<>();
    read(problems);
    return problems;
  }

  public Path configDir() {
    return Path.of(env.getOrDefault("JODO_CONFIG_DIR", "configs")).toAbsolutePath().normalize();
  }

  /** {@code JODO_WORKSPACE_DIR}, default {@code JODO_HOME/workspace}: seed 001's workspace. */
  public Path workspaceDir() {
    String dir = env.get("JODO_WORKSPACE_DIR");
    return dir == null || dir.isBlank()
        ? home().resolve("workspace")
        : Path.of(dir).toAbsolutePath().normalize();
  }

  public Path home() {
    return Path.of(env.getOrDefault("JODO_HOME", "var")).toAbsolutePath().normalize();
  }

  private KernelConfig read(List<ConfigProblem> problems) {
    EnvInterpolator interpolator = new EnvInterpolator(env);
    Path configDir = configDir();
    List<String> warnings = new ArrayList<>();

    ConfigNode root =
        new ConfigNode(
            CONFIG_FILE, "", parse(configDir, CONFIG_FILE, problems), problems, interpolator);
    root.allowOnly(
        java.util.Set.of(
            "kernel",
            "jodo",
            "agents",
            "database",
            "providers",
            "routing",
            "quotas",
            "memory",
            "runs"));

    ConfigNode kernel = root.object("kernel");
    kernel.allowOnly(
        java.util.Set.of(
            "host",
            "port",
            "health_check_interval",
            "max_restart_attempts",
            "log_level",
            "shutdown_timeout_seconds",
            "public_url"));
    String bindHost = kernel.string("host", "0.0.0.0");
    int port = kernel.integer("port", 8080, 1, 65535);
    if (env.containsKey("JODO_PORT")) {
      port = envPort(env.get("JODO_PORT"), problems, port);
    }
    String logLevel =
        kernel.choice(
            "log_level",
            "info",
            Map.of(
                "trace", "trace", "debug", "debug", "info", "info", "warn", "warn", "error",
                "error"));
    int healthInterval = kernel.integer("health_check_interval", 10, 1, 3600);
    int maxRestarts = kernel.integer("max_restart_attempts", 3, 0, 1000);
    int shutdownSeconds = kernel.integer("shutdown_timeout_seconds", 10, 1, 300);
    Optional<String> publicUrl =
        kernel.string("public_url").map(String::trim).filter(u -> !u.isEmpty());
    if (publicUrl.isPresent() && !publicUrl.get().matches("https?://[^/\\s]+/?")) {
      kernel.problem(
          "public_url",
          ConfigNode.quote(publicUrl.get())
              + " is not a base URL; use the kernel's address as agents reach it, e.g."
              + " http://10.0.0.1:8080");
      publicUrl = Optional.empty();
    }
    publicUrl = publicUrl.map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u);

    LogFormat logFormat = LogFormat.PRETTY;
    if (env.containsKey("JODO_LOG_FORMAT")) {
      String value = env.get("JODO_LOG_FORMAT").trim().toLowerCase(Locale.ROOT);
      switch (value) {
        case "json" -> logFormat = LogFormat.JSON;
        case "pretty", "" -> logFormat = LogFormat.PRETTY;
        default ->
            problems.add(
                new ConfigProblem(
                    "environment",
                    "JODO_LOG_FORMAT",
                    ConfigNode.quote(env.get("JODO_LOG_FORMAT"))
                        + " is not allowed; use json or pretty"));
      }
    }

    DatabaseTarget database = DatabaseSection.read(root.object("database"), env, problems);
    Map<String, ProviderConfig> providers =
        ProviderSection.read(root.object("providers"), problems, warnings);
    RoutingConfig routing = RoutingSection.read(root.object("routing"), providers, problems);
    QuotaConfig quotas = QuotaSection.read(root.object("quotas"));
    ConfigNode runsNode = root.object("runs");
    runsNode.allowOnly(java.util.Set.of("max_concurrent", "max_turns", "compact_after_tokens"));
    RunsConfig runs =
        new RunsConfig(
            runsNode.integer("max_concurrent", RunsConfig.DEFAULTS.maxConcurrent(), 1, 1024),
            runsNode.integer("max_turns", RunsConfig.DEFAULTS.maxTurns(), 1, 100),
            runsNode.integer(
                "compact_after_tokens", RunsConfig.DEFAULTS.compactAfterTokens(), 500, 1_000_000));
    ConfigNode memoryNode = root.object("memory");
    memoryNode.allowOnly(java.util.Set.of("embedder", "gateway_model"));
    MemoryConfig memory =
        new MemoryConfig(
            memoryNode.choice(
                "embedder",
                MemoryConfig.Embedder.LOCAL,
                Map.of(
                    "local",
                    MemoryConfig.Embedder.LOCAL,
                    "gateway",
                    MemoryConfig.Embedder.GATEWAY)),
            memoryNode.string("gateway_model", "jodo:embed"));

    JsonNode genesis = parse(configDir, GENESIS_FILE, problems);
    String agentName = GenesisSection.agentName(genesis, problems);
    List<AgentConfig> agents = AgentSection.read(root, agentName, home());
    if (publicUrl.isEmpty()) {
      agents.stream()
          .filter(a -> !a.isLocal())
          .forEach(
              a ->
                  warnings.add(
                      "agent '"
                          + a.name()
                          + "' runs on "
                          + a.host()
                          + " but kernel.public_url is not set, so it will look for the kernel"
                          + " at 127.0.0.1; set kernel.public_url to the address it can reach"));
    }

    Optional<TelegramConfig> telegram = TelegramConfig.read(env, problems);

    Optional<Secret> adminToken =
        Optional.ofNullable(env.get("JODO_ADMIN_TOKEN")).filter(t -> !t.isBlank()).map(Secret::new);
    adminToken.ifPresent(
        token -> {
          if (token.value().length() < 16) {
            problems.add(
                new ConfigProblem(
                    "environment",
                    "JODO_ADMIN_TOKEN",
                    "is shorter than 16 characters; use a long random value, e.g. `openssl rand -hex 24`"));
          }
        });

    return new KernelConfig(
        home(),
        configDir,
        bindHost,
        port,
        logFormat,
        logLevel,
        healthInterval,
        maxRestarts,
        Duration.ofSeconds(shutdownSeconds),
        database,
        adminToken,
        agents,
        providers,
        routing,
        quotas,
        memory,
        runs,
        workspaceDir(),
        genesis,
        warnings,
        publicUrl,
        telegram);
  }

  private static int envPort(String text, List<ConfigProblem> problems, int fallback) {
    try {
      int value = Integer.parseInt(text.trim());
      if (value >= 1 && value <= 65535) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add(
        new ConfigProblem(
            "environment",
            "JODO_PORT",
            ConfigNode.quote(text) + " is not a port; use a whole number from 1 to 65535"));
    return fallback;
  }

  private JsonNode parse(Path dir, String file, List<ConfigProblem> problems) {
    Path path = dir.resolve(file);
    if (!Files.isRegularFile(path)) {
      String fix =
          CONFIG_FILE.equals(file) && Files.isRegularFile(dir.resolve("config.example.yaml"))
              ? "copy config.example.yaml to " + path
              : "create it, or point JODO_CONFIG_DIR at the directory that holds it";
      problems.add(new ConfigProblem(file, "(file)", "not found at " + path + "; " + fix));
      return MissingNode.getInstance();
    }
    try {
      JsonNode node = yaml.readTree(path.toFile());
      if (node == null || node.isMissingNode() || node.isNull()) {
        return MissingNode.getInstance();
      }
      if (!node.isObject()) {
        problems.add(new ConfigProblem(file, "(file)", "must be a YAML mapping of keys to values"));
        return MissingNode.getInstance();
      }
      return node;
    } catch (JsonProcessingException e) {
      String where =
          e.getLocation() == null
              ? ""
              : " at line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr();
      problems.add(
          new ConfigProblem(
              file,
              "(file)",
              "is not valid YAML" + where + ": " + oneLine(e.getOriginalMessage())));
      return MissingNode.getInstance();
    } catch (IOException e) {
      problems.add(new ConfigProblem(file, "(file)", "cannot be read: " + e.getMessage()));
      return MissingNode.getInstance();
    }
  }

  /** SnakeYAML's messages span lines with carets; keep the sentences, one line. */
  private static String oneLine(String message) {
    return message
        .lines()
        .filter(line -> !line.isBlank() && !Character.isWhitespace(line.charAt(0)))
        .filter(line -> !line.startsWith("in 'reader'"))
        .map(String::strip)
        .reduce((a, b) -> a + "; " + b)
        .orElse(message.strip());
  }
}
