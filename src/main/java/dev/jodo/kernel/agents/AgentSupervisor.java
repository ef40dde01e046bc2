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
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one agent alive, as seed 000's "Process Management Logic" says: boot (run {@code main.py},
 * or deploy the seed into an empty brain and run it), then a health check every {@code interval} on
 * its own thread, escalating by the {@link HealthLadder}: restart at 3 failures, roll back to the
 * newest stable tag at 6 (with none, rebirth at once), rebirth at 9 (the old brain is archived with
 * its history, the seed redeployed). A new commit that stays healthy long enough is tagged {@code
 * stable-vN} ({@link StableTagger}). Every escalation and recovery is a growth_log milestone;
 * failures, recoveries and periodic summaries are health_checks rows. {@link #status()} never
 * blocks.
 *
 * <p>{@link #restart}, {@link #rollback}, {@link #kill} and {@link #rebirth} are the admin's
 * controls; they run on the supervisor's thread, in order with the health checks. A killed agent
 * stays dead (no checks, no escalation) until it is restarted or reborn.
 *
 * <p>Closing the supervisor leaves the agent running; a new supervisor adopts it.
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

  /** The detail of an agent killed on request; a later supervisor keeps it dead. */
  static final String KILLED = "killed on request";

  /**
   * One agent: its home on its host ({@code JODO_HOME/agents/<name>} for a local agent: pid file,
   * logs, archived brains), its brain directory there, the command that runs {@code main.py} in it,
   * where its health endpoint answers, how often to ask, the environment it runs with, the seed to
   * deploy into an empty brain (or why it cannot be: {@code cannotSeed}), how long the seed may
   * take to write the first application, how long a commit must stay healthy to be tagged stable,
   * and how often a summary row goes to health_checks.
   */
  public record Settings(
      String name,
      Path home,
      Path brainDir,
      List<String> command,
      int port,
      String healthEndpoint,
      Duration interval,
      Map<String, String> environment,
      byte[] seed,
      Optional<String> cannotSeed,
      Duration seedGrace,
      Duration stableAfter,
      Duration summaryEvery) {
    public Settings {
      command = List.copyOf(command);
      environment = Map.copyOf(environment);
    }
  }

  /**
   * What {@code /api/status} shows of the agent; {@code detail} is the last failure, or why the
   * agent is dead.
   */
  public record Status(
      String state,
      long pid,
      Instant startedAt,
      Instant lastCheck,
      boolean healthy,
      int restartsToday,
      Optional<String> gitTag,
      Optional<String> gitHash,
      Optional<String> detail) {}

  private final Settings settings;
  private final AgentHost host;
  private final Brain brain;
  private final Path brainDir;
  private final DataSource dataSource;
  private final Clock clock;
  private final Consumer<Status> onStatus;
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
  private boolean killed;
  private String detail;
  private Optional<Brain.Head> head = Optional.empty();
  private final Summary summary = new Summary();

  public AgentSupervisor(
      Settings settings,
      AgentHost host,
      Brain brain,
      DataSource dataSource,
      Clock clock,
      Consumer<Status> onStatus) {
    this.settings = settings;
    this.host = host;
    this.brain = brain;
    this.brainDir = settings.brainDir();
    this.dataSource = dataSource;
    this.clock = clock;
    this.onStatus = onStatus;
    this.tagger = new StableTagger(settings.stableAfter());
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    this.ticks =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofVirtual().name("jodo-supervisor-" + settings.name()).factory());
    this.status =
        new Status(
            "starting",
            0,
            clock.instant(),
            null,
            false,
            0,
            Optional.empty(),
            Optional.empty(),
            Optional.empty());
  }

  public String name() {
    return settings.name();
  }

  /**
   * Carries today's restart count over from the agent's previous supervisor (another kernel, or
   * this one before a restart). Call before {@link #start()}.
   */
  public void resume(Status previous) {
    if ("dead".equals(previous.state()) && previous.detail().filter(KILLED::equals).isPresent()) {
      killed = true; // the admin's kill outlives kernel restarts and takeovers
    }
    if (previous.lastCheck() != null) {
      Instant day = previous.lastCheck().truncatedTo(ChronoUnit.DAYS);
      if (day.equals(clock.instant().truncatedTo(ChronoUnit.DAYS))) {
        restartsDay = day;
        restartsToday = previous.restartsToday();
      }
    }
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

  /**
   * Restarts the agent (kill and relaunch), also a killed one, and starts the ladder over.
   *
   * @return the pid it had
   */
  public long restart() {
    long previous = status.pid();
    submit(
        () -> {
          killed = false;
          ladder.reset();
          restart("requested");
        });
    return previous;
  }

  /**
   * Rolls the brain back to {@code target} (a tag or a commit hash) and restarts the agent on it.
   * The returned future completes when the brain has moved (with {@link BrainException} if it could
   * not); the restart follows on the supervisor's thread.
   */
  public CompletableFuture<Brain.Rollback> rollback(String target) {
    CompletableFuture<Brain.Rollback> moved = new CompletableFuture<>();
    submit(
        () -> {
          Brain.Rollback done;
          try {
            done = brain.rollback(target);
          } catch (RuntimeException e) {
            moved.completeExceptionally(e);
            return;
          }
          moved.complete(done);
          killed = false;
          ladder.reset();
          host.stop(pid, Duration.ofSeconds(5));
          launch(host.exists(brainDir.resolve("main.py")) ? "main.py" : "seed.py");
          countRestart();
          milestone("rollback", "requested; " + done.from() + " -> " + done.to());
        });
    return moved;
  }

  /**
   * Stops the agent and keeps it stopped: no health checks, no escalation, until {@link #restart}
   * or {@link #rebirth}.
   *
   * @return the pid it had
   */
  public long kill() {
    long previous = status.pid();
    submit(
        () -> {
          killed = true;
          host.stop(pid, Duration.ofSeconds(5));
          detail = KILLED;
          milestone("kill", "requested; pid " + pid + " stopped");
          publish("dead", false);
        });
    return previous;
  }

  /**
   * Archives the brain, redeploys the seed and starts it: a new life.
   *
   * @return the pid it had
   */
  public long rebirth() {
    long previous = status.pid();
    submit(
        () -> {
          killed = false;
          ladder.reset();
          rebirth("requested");
        });
    return previous;
  }

  private void submit(Runnable action) {
    try {
      ticks.execute(
          () -> {
            try {
              action.run();
            } catch (RuntimeException e) {
              log.error("agent {}: {}", settings.name(), e.getMessage(), e);
              detail = e.getMessage();
              publish(status.state(), false);
            }
          });
    } catch (RejectedExecutionException e) {
      throw new IllegalStateException("agent " + settings.name() + " is no longer supervised here");
    }
  }

  private Path pidFile() {
    return settings.home().resolve("agent.pid");
  }

  private void boot() {
    if (killed) {
      detail = KILLED;
      publish("dead", false);
      return;
    }
    try {
      Optional<Long> running = host.running(pidFile(), brainDir);
      if (running.isPresent()) {
        pid = running.get();
        startedAt = clock.instant();
        log.info("agent {} is already running (pid {}): adopted", settings.name(), pid);
        refreshHead();
        publish("running", true);
        return;
      }
      if (host.exists(brainDir.resolve("main.py"))) {
        brain.ensureRepository(); // a brain written by hand gets its history from here on
        launch("main.py");
        milestone("boot", "started main.py");
      } else if (settings.cannotSeed().isPresent()) {
        detail = settings.cannotSeed().get();
        log.warn("agent {} is not born: {}", settings.name(), detail);
        publish("dead", false);
      } else {
        boolean first = !host.exists(brainDir.resolve(".git"));
        deploySeed();
        launch("seed.py");
        milestone(first ? "first_boot" : "rebirth", "deployed the seed and started it");
      }
    } catch (AgentHostException | BrainException e) {
      log.error("agent {}: boot failed: {}", settings.name(), e.getMessage());
      detail = "boot failed: " + e.getMessage();
      publish("dead", false);
    } catch (RuntimeException e) {
      log.error("agent {}: boot failed: {}", settings.name(), e.getMessage(), e);
      detail = "boot failed: " + e.getMessage();
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
    detail = null;
    try {
      refreshHead();
    } catch (RuntimeException e) {
      log.warn("agent {}: cannot read its brain: {}", settings.name(), e.getMessage());
    }
    publish("starting", false);
  }

  private void tick() {
    try {
      if (killed
          || (pid == 0 && settings.cannotSeed().isPresent() && "dead".equals(status.state()))) {
        return;
      }
      long t0 = System.nanoTime();
      Optional<String> failure = probe();
      int millis = (int) ((System.nanoTime() - t0) / 1_000_000);
      if (failure.isPresent()
          && failure.get().startsWith(NOT_LISTENING)
          && clock.instant().isBefore(graceUntil)
          && knownAlive()) {
        publish("starting", false); // not listening yet, or the seed is still writing the app
        return;
      }
      graceUntil = Instant.EPOCH;
      prune();
      summarize(failure.isEmpty(), millis);
      tagStable(failure.isEmpty());
      detail = failure.orElse(null);
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
    } catch (AgentHostException | BrainException e) {
      log.error("agent {}: supervision tick failed: {}", settings.name(), e.getMessage());
      detail = e.getMessage();
      publish(status.state(), false);
    } catch (RuntimeException e) {
      log.error("agent {}: supervision tick failed: {}", settings.name(), e.getMessage(), e);
      detail = e.getMessage();
      publish(status.state(), false);
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

  /** Counts checks; every {@code summaryEvery} writes one {@code summary} row and starts over. */
  private void summarize(boolean healthy, int millis) {
    Instant now = clock.instant();
    if (summary.since == null) {
      summary.since = now;
    }
    summary.add(healthy, millis);
    if (now.isBefore(summary.since.plus(settings.summaryEvery()))) {
      return;
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO health_checks (agent, status, response_time_ms, details) VALUES"
                    + " (?, 'summary', ?, jsonb_build_object('checks', ?, 'ok', ?, 'failed', ?,"
                    + " 'max_ms', ?, 'since', ?::text))")) {
      ps.setString(1, settings.name());
      ps.setInt(2, (int) (summary.totalMillis / summary.checks));
      ps.setInt(3, summary.checks);
      ps.setInt(4, summary.ok);
      ps.setInt(5, summary.checks - summary.ok);
      ps.setInt(6, summary.maxMillis);
      ps.setString(7, summary.since.toString());
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("agent {}: cannot record a health summary: {}", settings.name(), e.getMessage());
    }
    summary.reset(now);
  }

  /**
   * Feeds the stable tagger; a commit healthy long enough gets its {@code stable-vN} tag. A brain
   * that cannot be read now (a host out of reach) is skipped: the ladder still runs.
   */
  private void tagStable(boolean healthy) {
    try {
      refreshHead();
    } catch (RuntimeException e) {
      log.warn("agent {}: cannot read its brain: {}", settings.name(), e.getMessage());
      return;
    }
    head.ifPresent(tagger::headChanged);
    tagger
        .healthChecked(clock.instant(), healthy)
        .ifPresent(
            hash -> {
              try {
                String tag = brain.tagStable(hash);
                milestone("stable", hash + " is " + tag);
                refreshHead();
              } catch (BrainException e) {
                log.warn("agent {}: tagging {} failed: {}", settings.name(), hash, e.getMessage());
                tagger.retry(hash);
              }
            });
  }

  /** Empty when healthy, else what was wrong. */
  private Optional<String> probe() {
    try {
      if (pid != 0 && !host.isAlive(pid)) {
        return Optional.of("the process (pid " + pid + ") has exited");
      }
    } catch (AgentHostException e) {
      return Optional.of(e.getMessage());
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
    String kept;
    if (!host.exists(brainDir.resolve("main.py")) && brain.history(2).size() <= 1) {
      // No application and only the kernel's initial commit: the seed never got as far (no
      // provider answering, say). Nothing to keep, so no archive per attempt fills the disk.
      kept = "the brain held nothing but the seed, so nothing was archived";
    } else {
      kept =
          "the old brain is archived at "
              + brain.archiveAndWipe(settings.home().resolve("archive"), clock.instant());
    }
    deploySeed();
    launch("seed.py");
    countRestart();
    milestone("rebirth", why + "; " + kept);
  }

  private void countRestart() {
    Instant day = clock.instant().truncatedTo(ChronoUnit.DAYS);
    if (!day.equals(restartsDay)) {
      restartsDay = day;
      restartsToday = 0;
    }
    restartsToday++;
  }

  /** Whether the agent's process runs; false if its host cannot say. */
  private boolean knownAlive() {
    try {
      return host.isAlive(pid);
    } catch (AgentHostException e) {
      return false;
    }
  }

  /** Reads HEAD and its tag (a round trip to a remote brain); {@link #publish} uses the last. */
  private void refreshHead() {
    head = brain.head();
  }

  private void publish(String state, boolean healthy) {
    Instant day = clock.instant().truncatedTo(ChronoUnit.DAYS);
    status =
        new Status(
            state,
            pid,
            startedAt,
            clock.instant(),
            healthy,
            day.equals(restartsDay) ? restartsToday : 0,
            head.flatMap(Brain.Head::stableTag),
            head.map(Brain.Head::hash),
            Optional.ofNullable(detail));
    try {
      onStatus.accept(status);
    } catch (RuntimeException e) {
      log.warn("agent {}: cannot share its status: {}", settings.name(), e.getMessage());
    }
  }

  private void milestone(String event, String note) {
    log.info("agent {}: {}: {}", settings.name(), event, note);
    String hash = status.gitHash().orElse(null);
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO growth_log (agent, event, note, git_hash) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, settings.name());
      ps.setString(2, event);
      ps.setString(3, note);
      ps.setString(4, hash);
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("agent {}: cannot record a milestone: {}", settings.name(), e.getMessage());
    }
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

  /** Health checks since the last summary row. */
  private static final class Summary {
    Instant since;
    int checks;
    int ok;
    long totalMillis;
    int maxMillis;

    void add(boolean healthy, int millis) {
      checks++;
      ok += healthy ? 1 : 0;
      totalMillis += millis;
      maxMillis = Math.max(maxMillis, millis);
    }

    void reset(Instant now) {
      since = now;
      checks = 0;
      ok = 0;
      totalMillis = 0;
      maxMillis = 0;
    }
  }
}
