package dev.jodo.kernel.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.agents.brain.Brain;
import dev.jodo.kernel.agents.brain.BrainException;
import dev.jodo.kernel.agents.brain.StableTagger;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one local agent alive, as seed 000's "Process Management Logic" says: boot (run {@code
 * main.py}, or deploy the seed into an empty brain and run it), then a health check every {@code
 * interval} on its own thread, escalating by the {@link HealthLadder}: restart at 3 failures, roll
 * back to the newest stable tag at 6 (with none, rebirth at once), rebirth at 9 (the old brain is
 * archived with its history, the seed redeployed). A new commit that stays healthy long enough is
 * tagged {@code stable-vN} ({@link StableTagger}). Every escalation and recovery is a growth_log
 * milestone; failures and recoveries are health_checks rows. {@link #status()} never blocks.
 * Closing the supervisor leaves the agent running; a new supervisor adopts it.
 */
public final class AgentSupervisor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentSupervisor.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How long a freshly started {@code main.py} may take to start listening before refused
   * connections count as failed checks. An answer of any kind ends the grace.
   */
  static final Duration BOOT_GRACE = Duration.ofSeconds(10);

  private static final String NOT_LISTENING = "not listening: ";

  /**
   * One agent: its home on its host ({@code JODO_HOME/agents/<name>} for a local agent: pid file,
   * logs, archived brains), the command that runs {@code main.py} in its brain, where its health
   * endpoint answers, how often to ask, the environment it runs with, and the seed to deploy into
   * an empty brain.
   */
  public record Settings(
      String name,
      Path home,
      List<String> command,
      int port,
      String healthEndpoint,
      Duration interval,
      Map<String, String> environment,
      byte[] seed,
      Duration seedGrace,
      Duration stableAfter) {}

  /** What {@code /api/status} shows of the agent. */
  public record Status(
      String state,
      long pid,
      Instant startedAt,
      Instant lastCheck,
      boolean healthy,
      int restartsToday,
      Optional<String> gitTag,
      Optional<String> gitHash) {}

  private final Settings settings;
  private final AgentHost host;
  private final Brain brain;
  private final Path brainDir;
  private final DataSource dataSource;
  private final Clock clock;
  private final HealthLadder ladder = new HealthLadder();
  private final StableTagger tagger;
  private final HttpClient http;
  private final ScheduledExecutorService ticks;
  private volatile Status status;
  private long pid;
  private Instant startedAt;
  private int restartsToday;
  private Instant restartsDay = Instant.EPOCH;
  private Instant graceUntil = Instant.EPOCH;
  private Instant nextPrune = Instant.EPOCH;

  public AgentSupervisor(
      Settings settings,
      AgentHost host,
      Brain brain,
      Path brainDir,
      DataSource dataSource,
      Clock clock) {
    this.settings = settings;
    this.host = host;
    this.brain = brain;
    this.brainDir = brainDir;
    this.dataSource = dataSource;
    this.clock = clock;
    this.tagger = new StableTagger(settings.stableAfter());
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    this.ticks =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("jodo-supervisor-" + settings.name()).factory());
    this.status =
        new Status(
            "starting", 0, clock.instant(), null, false, 0, Optional.empty(), Optional.empty());
  }

  /** Boots (or adopts) the agent and starts the health loop. */
  public void start() {
    ticks.execute(this::boot);
    long every = settings.interval().toMillis();
    ticks.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
  }

  public Status status() {
    return status;
  }

  private Path pidFile() {
    return settings.home().resolve("agent.pid");
  }

  private void boot() {
    try {
      Optional<Long> running = host.running(pidFile(), brainDir);
      if (running.isPresent()) {
        pid = running.get();
        startedAt = clock.instant();
        log.info("agent {} is already running (pid {}): adopted", settings.name(), pid);
        publish("running", true);
        return;
      }
      if (host.exists(brainDir.resolve("main.py"))) {
        launch("main.py");
        milestone("boot", "started main.py");
      } else {
        boolean first = !host.exists(brainDir.resolve(".git"));
        deploySeed();
        launch("seed.py");
        milestone(first ? "first_boot" : "rebirth", "deployed the seed and started it");
      }
    } catch (RuntimeException e) {
      log.error("agent {}: boot failed: {}", settings.name(), e.getMessage(), e);
      publish("dead", false);
    }
  }

  private void deploySeed() {
    brain.ensureRepository();
    host.write(brainDir.resolve("seed.py"), settings.seed());
  }

  private void launch(String script) {
    pid =
        host.start(
            new AgentHost.Launch(
                brainDir,
                script.equals("seed.py") ? List.of("python3", "seed.py") : settings.command(),
                settings.environment(),
                settings.home().resolve("logs/agent.log"),
                pidFile()));
    startedAt = clock.instant();
    graceUntil = startedAt.plus(script.equals("seed.py") ? settings.seedGrace() : BOOT_GRACE);
    publish("starting", false);
  }

  private void tick() {
    try {
      long t0 = System.nanoTime();
      Optional<String> failure = probe();
      int millis = (int) ((System.nanoTime() - t0) / 1_000_000);
      if (failure.isPresent()
          && failure.get().startsWith(NOT_LISTENING)
          && clock.instant().isBefore(graceUntil)
          && host.isAlive(pid)) {
        publish("starting", false); // not listening yet, or the seed is still writing the app
        return;
      }
      graceUntil = Instant.EPOCH;
      prune();
      tagStable(failure.isEmpty());
      HealthLadder.Step step = ladder.checked(failure.isEmpty());
      switch (step) {
        case HEALTHY -> publish("running", true);
        case RECOVERED -> {
          healthCheck("ok", millis, "recovered");
          milestone("recovery", "healthy again");
          publish("running", true);
        }
        case WARN -> {
          healthCheck("fail", millis, failure.get());
          log.warn(
              "agent {}: health check failed ({} in a row): {}",
              settings.name(),
              ladder.failures(),
              failure.get());
          publish("unhealthy", false);
        }
        case RESTART -> {
          healthCheck("fail", millis, failure.get());
          restart("3 failed health checks: " + failure.get());
        }
        case ROLLBACK -> {
          healthCheck("fail", millis, failure.get());
          Optional<String> tag = brain.newestStableTag();
          if (tag.isPresent()) {
            rollback(tag.get(), "6 failed health checks: " + failure.get());
          } else {
            rebirth("6 failed health checks and no stable tag: " + failure.get());
          }
        }
        case REBIRTH -> {
          healthCheck("fail", millis, failure.get());
          rebirth("9 failed health checks: " + failure.get());
        }
      }
    } catch (RuntimeException e) {
      log.error("agent {}: supervision tick failed: {}", settings.name(), e.getMessage(), e);
    }
  }

  /** health_checks keeps 24 hours (seed 000); checked at the first tick, then hourly. */
  private void prune() {
    Instant now = clock.instant();
    if (now.isBefore(nextPrune)) {
      return;
    }
    nextPrune = now.plus(Duration.ofHours(1));
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("DELETE FROM health_checks WHERE agent = ? AND created_at < ?")) {
      ps.setString(1, settings.name());
      ps.setTimestamp(2, Timestamp.from(now.minus(Duration.ofHours(24))));
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("agent {}: cannot prune health checks: {}", settings.name(), e.getMessage());
    }
  }

  /** Feeds the stable tagger; a commit healthy long enough gets its {@code stable-vN} tag. */
  private void tagStable(boolean healthy) {
    brain.head().ifPresent(tagger::headChanged);
    tagger
        .healthChecked(clock.instant(), healthy)
        .ifPresent(
            hash -> {
              try {
                String tag = brain.tagStable(hash);
                milestone("stable", hash + " is " + tag);
              } catch (BrainException e) {
                log.warn("agent {}: tagging {} failed: {}", settings.name(), hash, e.getMessage());
                tagger.retry(hash);
              }
            });
  }

  /** Empty when healthy, else what was wrong. */
  private Optional<String> probe() {
    if (pid != 0 && !host.isAlive(pid)) {
      return Optional.of("the process (pid " + pid + ") has exited");
    }
    URI uri =
        URI.create("http://" + host.address() + ":" + settings.port() + settings.healthEndpoint());
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(
                settings.interval().compareTo(Duration.ofSeconds(5)) < 0
                    ? settings.interval()
                    : Duration.ofSeconds(5))
            .GET()
            .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        return Optional.of(uri + " answered " + response.statusCode());
      }
      JsonNode body = JSON.readTree(response.body());
      if (!"ok".equals(body.path("status").asText())) {
        return Optional.of(uri + " answered 200 without {\"status\":\"ok\"}");
      }
      return Optional.empty();
    } catch (java.net.ConnectException e) {
      return Optional.of(NOT_LISTENING + uri + ": " + e.getMessage());
    } catch (IOException e) {
      return Optional.of(uri + ": " + e.getClass().getSimpleName() + " " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    }
  }

  private void restart(String why) {
    long previous = pid;
    host.stop(pid, Duration.ofSeconds(5));
    launch(host.exists(brainDir.resolve("main.py")) ? "main.py" : "seed.py");
    countRestart();
    milestone("restart", why + "; pid " + previous + " -> " + pid);
  }

  private void rollback(String tag, String why) {
    try {
      Brain.Rollback done = brain.rollback(tag);
      host.stop(pid, Duration.ofSeconds(5));
      launch("main.py");
      countRestart();
      milestone("rollback", why + "; " + done.from() + " -> " + done.to());
    } catch (BrainException e) {
      log.error("agent {}: rollback to {} failed: {}", settings.name(), tag, e.getMessage());
      rebirth(why + "; rollback to " + tag + " failed: " + e.getMessage());
    }
  }

  private void rebirth(String why) {
    publish("rebirthing", false);
    host.stop(pid, Duration.ofSeconds(5));
    Path archive = brain.archiveAndWipe(settings.home().resolve("archive"), clock.instant());
    deploySeed();
    launch("seed.py");
    countRestart();
    milestone("rebirth", why + "; the old brain is archived at " + archive);
  }

  private void countRestart() {
    Instant day = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.DAYS);
    if (!day.equals(restartsDay)) {
      restartsDay = day;
      restartsToday = 0;
    }
    restartsToday++;
  }

  private void publish(String state, boolean healthy) {
    Optional<Brain.Head> head;
    try {
      head = brain.head();
    } catch (RuntimeException e) {
      head = Optional.empty();
    }
    status =
        new Status(
            state,
            pid,
            startedAt,
            clock.instant(),
            healthy,
            restartsToday,
            head.flatMap(Brain.Head::stableTag),
            head.map(Brain.Head::hash));
  }

  private void milestone(String event, String note) {
    log.info("agent {}: {}: {}", settings.name(), event, note);
    String hash = status.gitHash().orElse(null);
    insert(
        "INSERT INTO growth_log (agent, event, note, git_hash) VALUES (?, ?, ?, ?)",
        settings.name(),
        event,
        note,
        hash);
  }

  private void healthCheck(String state, int millis, String detail) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO health_checks (agent, status, response_time_ms, details)"
                    + " VALUES (?, ?, ?, jsonb_build_object('detail', ?::text))")) {
      ps.setString(1, settings.name());
      ps.setString(2, state);
      ps.setInt(3, millis);
      ps.setString(4, detail);
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("agent {}: cannot record a health check: {}", settings.name(), e.getMessage());
    }
  }

  private void insert(String sql, String... values) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < values.length; i++) {
        ps.setString(i + 1, values[i]);
      }
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("agent {}: cannot record a milestone: {}", settings.name(), e.getMessage());
    }
  }

  /** Stops supervising; the agent keeps running (a kernel that stops never kills its agents). */
  @Override
  public void close() {
    ticks.shutdownNow();
    try {
      ticks.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
