package dev.jodo.kernel.platform.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The validated configuration of one kernel: {@code config.yaml}, {@code genesis.yaml} and the
 * {@code JODO_*} environment overrides. Built only by {@link ConfigLoader}.
 */
public record KernelConfig(
    Path home,
    Path configDir,
    String bindHost,
    int port,
    LogFormat logFormat,
    String logLevel,
    int healthCheckIntervalSeconds,
    int maxRestartAttempts,
    Duration shutdownTimeout,
    DatabaseTarget database,
    Optional<Secret> adminToken,
    AgentConfig genesisAgent,
    Map<String, ProviderConfig> providers,
    RoutingConfig routing,
    QuotaConfig quotas,
    MemoryConfig memory,
    JsonNode genesis,
    List<String> warnings) {

  public KernelConfig {
    providers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(providers));
    warnings = List.copyOf(warnings);
  }

  /** A copy listening on another port; tests and a second kernel on one machine use it. */
  public KernelConfig withPort(int newPort) {
    return new KernelConfig(
        home,
        configDir,
        bindHost,
        newPort,
        logFormat,
        logLevel,
        healthCheckIntervalSeconds,
        maxRestartAttempts,
        shutdownTimeout,
        database,
        adminToken,
        genesisAgent,
        providers,
        routing,
        quotas,
        memory,
        genesis,
        warnings);
  }

  /** A copy on another database. */
  public KernelConfig withDatabase(DatabaseTarget newDatabase) {
    return new KernelConfig(
        home,
        configDir,
        bindHost,
        port,
        logFormat,
        logLevel,
        healthCheckIntervalSeconds,
        maxRestartAttempts,
        shutdownTimeout,
        newDatabase,
        adminToken,
        genesisAgent,
        providers,
        routing,
        quotas,
        memory,
        genesis,
        warnings);
  }

  /** Where a process on this machine reaches the kernel (the wildcard address is not one). */
  public String localBaseUrl() {
    String host = "0.0.0.0".equals(bindHost) || "::".equals(bindHost) ? "127.0.0.1" : bindHost;
    return "http://" + host + ":" + port;
  }
}
