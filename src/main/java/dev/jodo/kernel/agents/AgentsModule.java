package dev.jodo.kernel.agents;

import dev.jodo.kernel.agents.brain.Brain;
import dev.jodo.kernel.agents.brain.LocalBrain;
import dev.jodo.kernel.agents.brain.SshBrain;
import dev.jodo.kernel.agents.ssh.SshConnection;
import dev.jodo.kernel.agents.ssh.SshHost;
import dev.jodo.kernel.platform.auth.IssuedToken;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.platform.config.AgentConfig;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.db.Database;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The supervised agents of one kernel: for every agent in {@code jodo:} and {@code agents:}, its
 * host and brain, and, while this kernel holds the agent's supervision lock ({@link
 * SupervisionLeases}), its {@link AgentSupervisor}. Any kernel can show an agent's status (from
 * {@code agent_status}) and read or commit its brain; restarts, rollbacks, kills and rebirths go to
 * the kernel that supervises it.
 *
 * <p>Each agent runs with its own agent token (seed 000's genesis scopes), kept in {@code
 * JODO_HOME/agents/<name>/agent.token} so that an agent adopted after a kernel restart still holds
 * a valid one. Closing the module stops supervising; the agents keep running.
 */
public final class AgentsModule implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentsModule.class);

  /** Seed 000's scopes for the genesis agent; every supervised agent gets them. */
  public static final Set<Scope> AGENT_SCOPES =
      EnumSet.of(
          Scope.THINK,
          Scope.MEMORY,
          Scope.BUDGET,
          Scope.STATUS,
          Scope.GENESIS,
          Scope.COMMIT,
          Scope.HISTORY);

  /** How long the seed may take to write the first application before failures count. */
  static final Duration SEED_GRACE = Duration.ofMinutes(5);

  /** Seed 000: 5 continuous healthy minutes after a change earn a stable tag. */
  static final Duration STABLE_AFTER = Duration.ofMinutes(5);

  static final Duration SUMMARY_EVERY = Duration.ofHours(1);

  /** Every SSH step (connect, log in, run a command) to a remote agent's machine. */
  public static final Duration SSH_TIMEOUT = Duration.ofSeconds(10);

  /** One configured agent: where it runs and its brain. */
  public record Agent(AgentConfig config, AgentHost host, Brain brain, Path home, Path brainDir) {}

  /** An agent's status as any kernel sees it; {@code kernel} is the one supervising it. */
  public record View(
      String name, String host, Optional<AgentSupervisor.Status> status, String kernel) {}

  private final KernelConfig config;
  private final TokenService tokens;
  private final Clock clock;
  private final Database database;
  private final AgentStatusStore store;
  private final Map<String, Agent> agents = new LinkedHashMap<>();
  private final Map<String, AgentSupervisor> supervisors = new ConcurrentHashMap<>();
  private volatile String kernelId;
  private final byte[] seed;
  private final Optional<String> cannotSeed;
  private final Duration sshTimeout;
  private SupervisionLeases leases;
  private String kernelUrl;

  public AgentsModule(
      KernelConfig config,
      Database database,
      TokenService tokens,
      Clock clock,
      Duration sshTimeout) {
    this.config = config;
    this.sshTimeout = sshTimeout;
    this.tokens = tokens;
    this.clock = clock;
    this.database = database;
    this.store = new AgentStatusStore(database.dataSource());
    this.kernelId = kernelId(config.port());
    this.seed = bundledSeed();
    this.cannotSeed =
        config.providers().values().stream().anyMatch(ProviderConfig::enabled)
            ? Optional.empty()
            : Optional.of(
                "no LLM provider is enabled, so the seed cannot write the first application;"
                    + " set an API key (e.g. CLAUDE_API_KEY) or an Ollama base_url in config.yaml"
                    + " and restart the kernel");
    for (AgentConfig agent : config.agents()) {
      agents.put(agent.name(), build(agent));
    }
  }

  private Agent build(AgentConfig agent) {
    Path home = agent.home(config.home());
    Path brainDir = agent.brainDir(config.home());
    if (agent.isLocal()) {
      return new Agent(
          agent,
          new LocalHost(),
          new LocalBrain(brainDir, clock, Brain.Identity.KERNEL),
          home,
          brainDir);
    }
    SshConnection ssh =
        new SshConnection(
            agent.host(),
            agent.sshPort(),
            agent.sshUser().orElseThrow(),
            Path.of(agent.sshKeyPath().orElseThrow()),
            config.home().resolve("ssh/known_hosts"),
            sshTimeout);
    return new Agent(
        agent,
        new SshHost(ssh),
        new SshBrain(ssh, brainDir, Brain.Identity.KERNEL),
        home,
        brainDir);
  }

  /**
   * Starts taking supervision locks; agents this kernel gets are booted or adopted. {@code
   * kernelPort} is the port the kernel listens on, for the agents' {@code JODO_KERNEL_URL}.
   */
  public void start(int kernelPort) {
    if (agents.isEmpty()) {
      return;
    }
    this.kernelUrl = config.agentBaseUrl(kernelPort);
    this.kernelId = kernelId(kernelPort);
    leases =
        new SupervisionLeases(
            () -> database.openDedicated("jodo-kernel supervision"),
            List.copyOf(agents.keySet()),
            Duration.ofSeconds(config.healthCheckIntervalSeconds()),
            new SupervisionLeases.Listener() {
              @Override
              public void acquired(String agent) {
                supervise(agents.get(agent));
              }

              @Override
              public void lost(String agent) {
                AgentSupervisor supervisor = supervisors.remove(agent);
                if (supervisor != null) {
                  supervisor.close();
                }
              }
            });
    leases.start();
  }

  private void supervise(Agent agent) {
    String name = agent.config().name();
    AgentSupervisor supervisor =
        new AgentSupervisor(
            new AgentSupervisor.Settings(
                name,
                agent.home(),
                agent.brainDir(),
                agent.config().commandWords(),
                agent.config().port(),
                agent.config().healthEndpoint(),
                Duration.ofSeconds(config.healthCheckIntervalSeconds()),
                environment(agent),
                seed,
                cannotSeed,
                SEED_GRACE,
                STABLE_AFTER,
                SUMMARY_EVERY),
            agent.host(),
            agent.brain(),
            database.dataSource(),
            clock,
            status -> share(name, status));
    try {
      store.read(name).ifPresent(row -> supervisor.resume(row.status()));
    } catch (SQLException e) {
      log.warn("agent {}: cannot read its last status: {}", name, e.getMessage());
    }
    supervisors.put(name, supervisor);
    supervisor.start();
  }

  private void share(String agent, AgentSupervisor.Status status) {
    try {
      store.write(agent, kernelId, status);
    } catch (SQLException e) {
      log.warn("agent {}: cannot record its status: {}", agent, e.getMessage());
    }
  }

  /** Exactly what the agent runs with: nothing of the kernel's environment but PATH. */
  private Map<String, String> environment(Agent agent) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(
        "PATH",
        agent.config().isLocal()
            ? System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin")
            : "/usr/local/bin:/usr/bin:/bin");
    env.put("HOME", agent.home().toString());
    env.put("LANG", "C.UTF-8");
    env.put("PYTHONUNBUFFERED", "1");
    env.put("JODO_KERNEL_URL", kernelUrl);
    env.put("JODO_AGENT_TOKEN", agentToken(agent.config().name()));
    env.put("JODO_AGENT_PORT", Integer.toString(agent.config().port()));
    env.put("JODO_AGENT_NAME", agent.config().name());
    env.put("JODO_BRAIN", agent.brainDir().toString());
    return env;
  }

  /**
   * The agent's token from its token file if it is still valid, else a new one (written there with
   * owner-only permissions).
   */
  private String agentToken(String name) {
    Path file = config.home().resolve("agents").resolve(name).resolve("agent.token");
    try {
      if (Files.isRegularFile(file)) {
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        Optional<Principal> principal = tokens.authenticate(token);
        if (principal.isPresent()
            && !principal.get().admin()
            && principal.get().name().equals(name)) {
          return token;
        }
        log.info("agent {}: its token is no longer valid; issuing a new one", name);
      }
      IssuedToken issued = tokens.createAgentToken(name, AGENT_SCOPES);
      Files.createDirectories(file.getParent());
      Path temporary = file.resolveSibling("agent.token.tmp");
      Files.deleteIfExists(temporary);
      Files.createFile(
          temporary,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(temporary, issued.token().value() + "\n", StandardCharsets.UTF_8);
      Files.move(
          temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return issued.token().value();
    } catch (IOException e) {
      throw new UncheckedIOException("agent " + name + ": cannot keep its token in " + file, e);
    }
  }

  public List<String> names() {
    return List.copyOf(agents.keySet());
  }

  public Optional<Agent> agent(String name) {
    return Optional.ofNullable(agents.get(name));
  }

  /** The supervisor of {@code name} if this kernel supervises it. */
  public Optional<AgentSupervisor> supervisor(String name) {
    return Optional.ofNullable(supervisors.get(name));
  }

  /**
   * Every agent's status: live from this kernel's supervisors, else the supervising kernel's last
   * row (one query for all), else none yet.
   */
  public List<View> views() {
    Map<String, AgentStatusStore.Row> rows = Map.of();
    if (supervisors.size() < agents.size()) {
      try {
        rows = store.readAll();
      } catch (SQLException e) {
        log.warn("cannot read agent status: {}", e.getMessage());
      }
    }
    Map<String, AgentStatusStore.Row> known = rows;
    return agents.values().stream()
        .map(
            agent -> {
              String name = agent.config().name();
              AgentSupervisor supervisor = supervisors.get(name);
              if (supervisor != null) {
                return new View(
                    name, agent.config().host(), Optional.of(supervisor.status()), kernelId);
              }
              AgentStatusStore.Row row = known.get(name);
              return row == null
                  ? new View(name, agent.config().host(), Optional.empty(), null)
                  : new View(name, agent.config().host(), Optional.of(row.status()), row.kernel());
            })
        .toList();
  }

  /** One growth_log entry: a boot, restart, rollback, rebirth, recovery or new stable tag. */
  public record Milestone(String agent, String event, String note, String gitHash, Instant at) {}

  /** The latest {@code limit} milestones of every agent, newest first. */
  public List<Milestone> milestones(int limit) throws SQLException {
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT agent, event, note, git_hash, created_at FROM growth_log"
                    + " ORDER BY created_at DESC, id DESC LIMIT ?")) {
      ps.setInt(1, limit);
      List<Milestone> found = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(
              new Milestone(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getTimestamp(5).toInstant()));
        }
      }
      return found;
    }
  }

  /** Which kernel supervises {@code name}, as far as the database knows. */
  public Optional<String> supervisingKernel(String name) {
    try {
      return store.read(name).map(AgentStatusStore.Row::kernel);
    } catch (SQLException e) {
      return Optional.empty();
    }
  }

  public String kernelId() {
    return kernelId;
  }

  /** Stops supervising (the agents keep running), then releases the supervision locks. */
  @Override
  public void close() {
    if (leases != null) {
      leases.stop();
    }
    supervisors.values().forEach(AgentSupervisor::close);
    supervisors.clear();
    if (leases != null) {
      leases.close();
    }
    agents.values().forEach(agent -> agent.host().close());
  }

  /** {@code host/pid:port}: which kernel supervises an agent, for people and messages. */
  private static String kernelId(int port) {
    String host = System.getenv().getOrDefault("HOSTNAME", "");
    if (host.isBlank()) {
      try {
        host = Files.readString(Path.of("/etc/hostname")).strip();
      } catch (IOException e) {
        host = "localhost";
      }
    }
    return host + "/" + ProcessHandle.current().pid() + ":" + port;
  }

  private static byte[] bundledSeed() {
    try (InputStream in = AgentsModule.class.getResourceAsStream("/seed/seed.py")) {
      if (in == null) {
        throw new IllegalStateException("seed/seed.py is missing from the kernel's jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the bundled seed", e);
    }
  }
}
