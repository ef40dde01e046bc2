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
    List<AgentConfig> agents,
    Map<String, ProviderConfig> providers,
    RoutingConfig routing,
    QuotaConfig quotas,
    MemoryConfig memory,
    RunsConfig runs,
    Path workspaceDir,
    JsonNode genesis,
    List<String> warnings,
    Optional<String> publicUrl,
    Optional<TelegramConfig> telegram) {

  public KernelConfig {
    providers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(providers));
    agents = List.copyOf(agents);
    warnings = List.copyOf(warnings);
  }

  /** How many of this kernel's runs call a model at once ({@code runs.max_concurrent}). */
  public int maxConcurrentRuns() {
    return runs.maxConcurrent();
  }

  /** The genesis agent's name, from {@code genesis.yaml} in lowercase ("Jodo" → "jodo"). */
  public String genesisName() {
    return GenesisSection.agentName(genesis, new java.util.ArrayList<>());
  }

  /** The supervised agent called {@code name}. */
  public Optional<AgentConfig> agent(String name) {
    return agents.stream().filter(a -> a.name().equals(name)).findFirst();
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
        agents,
        providers,
        routing,
        quotas,
        memory,
        runs,
        workspaceDir,
        genesis,
        warnings,
        publicUrl,
        telegram);
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
        agents,
        providers,
        routing,
        quotas,
        memory,
        runs,
        workspaceDir,
        genesis,
        warnings,
        publicUrl,
        telegram);
  }

  /**
   * Where an agent reaches the kernel: {@code kernel.public_url} if set (needed by agents on other
   * machines), else {@link #localBaseUrl()}.
   */
  public String agentBaseUrl(int actualPort) {
    return publicUrl.orElseGet(() -> withPort(actualPort).localBaseUrl());
  }

  /** Where a process on this machine reaches the kernel (the wildcard address is not one). */
  public String localBaseUrl() {
    String host = "0.0.0.0".equals(bindHost) || "::".equals(bindHost) ? "127.0.0.1" : bindHost;
    return "http://" + host + ":" + port;
  }
}
