package dev.jodo.kernel.runs;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.StartWorkflowOptions;
import dev.dbos.transact.config.DBOSConfig;
import dev.dbos.transact.workflow.ListWorkflowsInput;
import dev.dbos.transact.workflow.Queue;
import dev.dbos.transact.workflow.StepInfo;
import dev.dbos.transact.workflow.WorkflowSchedule;
import dev.dbos.transact.workflow.WorkflowState;
import dev.dbos.transact.workflow.WorkflowStatus;
import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.memory.MemoryService;
import dev.jodo.kernel.memory.index.MemoryIndex;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.tools.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable runs on DBOS Transact, in the kernel's own Postgres (schema {@code dbos}). An accepted
 * event is numbered in its conversation ({@link ConversationGate}) and its workflow starts at once
 * on the kernel that accepted it; the workflow waits until the conversation's earlier runs have
 * finished, so within a conversation one run at a time, in arrival order, while conversations run
 * side by side, their work (the gateway calls) at most {@code maxConcurrent} at once per kernel.
 *
 * <p>This replaced a DBOS queue partitioned by conversation key: that queue's dequeue takes a
 * transaction per waiting conversation on every poll, which held the kernel to about 90 runs/s over
 * 1,000 conversations (docs/performance.md). The application version is pinned, so runs accepted
 * before a deploy are recovered after it, and each kernel has a stable executor id of its own (kept
 * in {@code JODO_HOME/executor.id}), so a kernel that restarts resumes exactly the runs it had
 * started.
 */
public final class RunsModule implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RunsModule.class);

  /** Pinned: a version per build would strand the runs of the previous build (a DBOS pitfall). */
  static final String APP_VERSION = "jodo-runs-1";

  /**
   * The partitioned queue of earlier builds. Still registered (and polled slowly) so that runs a
   * kernel of such a build accepted but never started still run; nothing is enqueued on it now.
   */
  static final String LEGACY_QUEUE = "jodo-runs";

  /** A recall query is the message's beginning (the memory search takes at most 32 KiB). */
  static final int RECALL_QUERY_CHARS = 4000;

  /** The built-in workflows an event {@code type} may name (a workspace file may override one). */
  static final Set<String> WORKFLOWS = Set.of("message", "telegram.message");

  /** Where a chat's replies go (Telegram's sender, when Telegram is on). */
  public interface Replies {
    void send(String chatId, String text);
  }

  /** Schedules are named after their workflow with this prefix, so the kernel knows its own. */
  static final String SCHEDULE_PREFIX = "jodo-workflow:";

  /** How often the workflow files are checked for schedule changes. */
  static final int SCHEDULE_CHECK_SECONDS = 5;

  /** What {@code GET /v1/runs/{id}} shows. */
  public record Run(
      String runId,
      String status,
      String workflow,
      String conversationKey,
      Optional<String> output,
      Optional<String> error,
      Instant createdAt,
      Optional<Instant> startedAt,
      Optional<Instant> finishedAt,
      List<Step> steps) {}

  /** One step a run took. */
  public record Step(String name, String status, Optional<Long> durationMillis) {}

  private final DBOS dbos;
  private final Workflows workflows;
  private final ConversationGate gate;
  private final WorkflowFiles files;
  private final ScheduledExecutorService scheduleWatch;
  private volatile List<WorkflowSchedule> applied = List.of();
  private final CompletableFuture<AgentTurn.Memory> memory = new CompletableFuture<>();
  private final CompletableFuture<Optional<Replies>> replies = new CompletableFuture<>();
  private final ParallelRecovery recovery;

  public RunsModule(KernelConfig config, Database database, Gateway gateway, Tools tools) {
    DataSource dataSource = database.dataSource();
    String executorId = executorId(config.home());
    this.gate = new ConversationGate(dataSource, executorId);
    DatabaseTarget.External target = database.target();
    DBOSConfig dbosConfig =
        DBOSConfig.defaults("jodo-kernel")
            .withDatabaseUrl(target.jdbcUrl())
            .withDbUser(target.user())
            .withDbPassword(target.password().value()) // may be empty: trust or peer auth
            .withAppVersion(APP_VERSION)
            .withExecutorId(executorId)
            .withMigrate(true)
            .withUseListenNotify(true);
    this.dbos = new DBOS(dbosConfig);
    dbos.registerQueue(
        new Queue(LEGACY_QUEUE)
            .withConcurrency(1)
            .withPartitioningEnabled(true)
            .withPriorityEnabled(true)
            .withPollingInterval(Duration.ofSeconds(2)));
    DBOS self = dbos;
    Workspace workspace = Workspace.open(config.workspaceDir(), config.home());
    this.files = new WorkflowFiles(workspace.directory().resolve("workflows"));
    this.workflows =
        dbos.registerProxy(
            Workflows.class,
            new BuiltInWorkflows(
                new AgentTurn(
                    () -> self,
                    gateway,
                    new Sessions(dataSource),
                    config.genesisName(),
                    new Semaphore(config.runs().maxConcurrent(), true),
                    workspace,
                    gate,
                    tools,
                    config.runs(),
                    memory),
                files,
                (event, key) -> submit(event, Optional.of(key)),
                replies));
    this.recovery = new ParallelRecovery(dataSource, executorId, APP_VERSION);
    dbos.integration().registerLifecycleListener(recovery);
    dbos.launch();
    applySchedulesIfChanged(); // a failure (another kernel applying them at once) is retried
    this.scheduleWatch =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("jodo-workflow-schedules").daemon(true).factory());
    scheduleWatch.scheduleWithFixedDelay(
        this::applySchedulesIfChanged,
        SCHEDULE_CHECK_SECONDS,
        SCHEDULE_CHECK_SECONDS,
        TimeUnit.SECONDS);
    log.info("durable runs ready (DBOS {}, executor {})", DBOS.version(), executorId);
  }

  /**
   * Whether this kernel has runs a crash (or a stop that timed out) interrupted, which the runs
   * module resumes as it starts. One query, answerable before the module starts: the kernel keeps
   * CPU-heavy work of its own start (the local embedding model) out of their way.
   */
  public static boolean hasInterruptedRuns(KernelConfig config, DataSource dataSource) {
    try {
      return ParallelRecovery.anyInterrupted(dataSource, executorId(config.home()), APP_VERSION);
    } catch (SQLException e) {
      log.warn("cannot look for interrupted runs before resuming them: {}", e.getMessage());
      return true; // the cautious answer: the embedder's load waits for the resume pass
    }
  }

  /**
   * Completes once this kernel's parallel recovery pass has ended: every interrupted run it claimed
   * has been handed to DBOS (it may still be running). At once when it claimed none; runs it could
   * not claim (or an older build's queued runs) are left to DBOS's own, later recovery.
   */
  public CompletionStage<Void> resumed() {
    return recovery.ended();
  }

  /**
   * Gives the agent turns their memory, once the memory module is up (it starts after this module,
   * so that runs interrupted by a crash resume sooner; a turn waits for it). Recall searches the
   * agent's own namespace, and costs nothing while that holds no memories.
   */
  public void useMemory(MemoryService service) {
    memory.complete(
        new AgentTurn.Memory() {
          @Override
          public List<String> recall(Principal agent, String text, int limit) {
            return service
                .search(
                    agent,
                    Optional.empty(),
                    text.length() > RECALL_QUERY_CHARS
                        ? text.substring(0, RECALL_QUERY_CHARS)
                        : text,
                    limit,
                    List.of(),
                    Optional.empty(),
                    Optional.empty(),
                    MemoryIndex.Mode.HYBRID)
                .hits()
                .stream()
                .map(MemoryIndex.Hit::content)
                .toList();
          }

          @Override
          public void remember(Principal agent, String content, List<String> tags) {
            service.store(agent, Optional.empty(), content, tags, "workflow");
          }
        });
  }

  /**
   * Where {@code telegram.message} runs send their replies: Telegram's sender, or none when it is
   * off (such a run then fails, saying so). Runs resumed before this is set wait for it.
   */
  public void useReplies(Optional<Replies> sender) {
    replies.complete(sender);
  }

  /**
   * Accepts an event: numbers it in its conversation, starts its workflow and returns the run id.
   * The same {@code idempotencyKey} always gives the same run, started once.
   */
  public String submit(RunEvent event, Optional<String> idempotencyKey) {
    WorkflowFiles.Snapshot snapshot = files.current();
    Optional<WorkflowFile> declared = snapshot.get(event.type());
    if (declared.isEmpty() && !WORKFLOWS.contains(event.type())) {
      throw new UnknownWorkflow(event.type(), names(snapshot));
    }
    String runId =
        idempotencyKey.map(RunsModule::runIdFor).orElseGet(() -> "run_" + UUID.randomUUID());
    if (idempotencyKey.isPresent() && dbos.getWorkflowStatus(runId).isPresent()) {
      return runId;
    }
    gate.admit(runId, event.conversationKey());
    StartWorkflowOptions options =
        new StartWorkflowOptions(runId)
            .withAttributes(Map.of("conversation_key", event.conversationKey()));
    try {
      if (declared.isPresent()) {
        // A workspace file wins over a built-in workflow of the same name.
        WorkflowFile file = declared.get();
        dbos.startWorkflow(() -> workflows.workflow(file.name(), file.source(), event), options);
      } else if (event.type().equals("telegram.message")) {
        dbos.startWorkflow(() -> workflows.telegramMessage(event), options);
      } else {
        dbos.startWorkflow(() -> workflows.message(event), options);
      }
    } catch (RuntimeException e) {
      if (dbos.getWorkflowStatus(runId).isEmpty()) {
        gate.forget(runId);
      }
      throw e;
    }
    return runId;
  }

  /** An event named a workflow there is not; the message lists those there are. */
  public static final class UnknownWorkflow extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    UnknownWorkflow(String type, List<String> known) {
      super("'" + type + "' is not a workflow; use one of " + String.join(", ", known));
    }
  }

  /** The workflows an event may name: the built-in ones and the workspace's valid files. */
  private static List<String> names(WorkflowFiles.Snapshot snapshot) {
    Set<String> names = new TreeSet<>(WORKFLOWS);
    names.addAll(snapshot.workflows().keySet());
    return List.copyOf(names);
  }

  /** What {@code jodo workflows check} reports: the valid workflows, and the files' problems. */
  public record WorkflowCheck(List<String> workflows, List<String> problems) {}

  /** Reads the workflow files of the workspace {@code workspaceDir}, as a kernel would. */
  public static WorkflowCheck checkWorkflows(Path workspaceDir) {
    WorkflowFiles.Snapshot snapshot = WorkflowFiles.check(workspaceDir.resolve("workflows"));
    return new WorkflowCheck(
        snapshot.workflows().values().stream()
            .map(w -> w.name() + w.schedule().map(c -> " (schedule " + c + ")").orElse(""))
            .sorted()
            .toList(),
        snapshot.problems().stream().map(Object::toString).toList());
  }

  /**
   * Gives DBOS the schedules of the workflow files, once they differ from those it has; a failure
   * is logged and tried again at the next check.
   */
  private void applySchedulesIfChanged() {
    try {
      applySchedules();
    } catch (RuntimeException e) {
      log.warn("cannot apply the workflow schedules: {}", e.getMessage());
    }
  }

  private synchronized void applySchedules() {
    List<WorkflowSchedule> wanted =
        files.current().workflows().values().stream()
            .filter(w -> w.schedule().isPresent())
            .map(
                w ->
                    new WorkflowSchedule(
                            SCHEDULE_PREFIX + w.name(),
                            "scheduled",
                            BuiltInWorkflows.class.getName(),
                            w.schedule().get())
                        .withContext(w.name()))
            .toList();
    if (wanted.equals(applied)) {
      return;
    }
    Set<String> keep = new TreeSet<>();
    wanted.forEach(s -> keep.add(s.scheduleName()));
    for (WorkflowSchedule old : dbos.listSchedules(null, null, null)) {
      if (old.scheduleName().startsWith(SCHEDULE_PREFIX) && !keep.contains(old.scheduleName())) {
        dbos.deleteSchedule(old.scheduleName());
      }
    }
    if (!wanted.isEmpty()) {
      dbos.applySchedules(wanted);
    }
    applied = wanted;
    log.info("workflow schedules: {}", keep.isEmpty() ? "none" : String.join(", ", keep));
  }

  /** The run, or empty if there is none with this id. */
  public Optional<Run> get(String runId) {
    return dbos.getWorkflowStatus(runId)
        .map(
            status ->
                view(
                    status,
                    Optional.ofNullable(gate.turns(List.of(runId)).get(runId)),
                    dbos.listWorkflowSteps(runId)));
  }

  /**
   * Runs, newest first, optionally of one conversation and in one status. A run waiting for its
   * conversation's turn is still "running" to DBOS, so queued and running runs are told apart here,
   * among the (few) active runs.
   */
  public List<Run> list(Optional<String> conversationKey, Optional<String> status, int limit) {
    boolean active = status.filter(s -> s.equals("queued") || s.equals("running")).isPresent();
    ListWorkflowsInput input =
        new ListWorkflowsInput()
            .withWorkflowIdPrefix(List.of("run_"))
            .withSortDesc(true)
            .withLoadInput(false);
    if (!active) {
      input = input.withLimit(limit);
    }
    if (conversationKey.isPresent()) {
      input = input.withAttributes(Map.of("conversation_key", conversationKey.get()));
    }
    if (status.isPresent()) {
      input = input.withStatus(states(status.get()));
    }
    List<WorkflowStatus> found = dbos.listWorkflows(input);
    Map<String, ConversationGate.Turn> turns =
        gate.turns(found.stream().map(WorkflowStatus::workflowId).toList());
    return found.stream()
        .map(s -> view(s, Optional.ofNullable(turns.get(s.workflowId())), List.of()))
        .filter(run -> status.isEmpty() || run.status().equals(status.get()))
        .limit(limit)
        .toList();
  }

  /** Cancels a queued or running run; false if there is none with this id. */
  public boolean cancel(String runId) {
    if (dbos.getWorkflowStatus(runId).isEmpty()) {
      return false;
    }
    dbos.cancelWorkflow(runId);
    return true;
  }

  /** Seed 001's four states, from DBOS's. */
  static String status(WorkflowState state) {
    return switch (state) {
      case ENQUEUED, DELAYED -> "queued";
      case PENDING -> "running";
      case SUCCESS -> "succeeded";
      case ERROR, CANCELLED, MAX_RECOVERY_ATTEMPTS_EXCEEDED -> "failed";
    };
  }

  private static List<WorkflowState> states(String status) {
    return switch (status) {
      case "queued", "running" ->
          List.of(WorkflowState.ENQUEUED, WorkflowState.DELAYED, WorkflowState.PENDING);
      case "succeeded" -> List.of(WorkflowState.SUCCESS);
      case "failed" ->
          List.of(
              WorkflowState.ERROR,
              WorkflowState.CANCELLED,
              WorkflowState.MAX_RECOVERY_ATTEMPTS_EXCEEDED);
      default -> throw new IllegalArgumentException("unknown status " + status);
    };
  }

  /**
   * When a run that never waited got its turn: when its workflow started, but never before the
   * conversation's previous run finished (the gate let it through only after that).
   */
  private static Instant unblocked(WorkflowStatus status, Optional<ConversationGate.Turn> turn) {
    Instant started = Optional.ofNullable(status.startedAt()).orElse(status.createdAt());
    return turn.flatMap(ConversationGate.Turn::previousFinishedAt)
        .filter(previous -> previous.isAfter(started))
        .orElse(started);
  }

  /**
   * The run as the API shows it, with its conversation's turn (none for a run the gate never
   * numbered: one accepted by an earlier, queued build).
   */
  private static Run view(
      WorkflowStatus status, Optional<ConversationGate.Turn> turn, List<StepInfo> steps) {
    boolean done = !status.status().isActive();
    boolean waiting =
        status.status() == WorkflowState.PENDING
            && turn.filter(ConversationGate.Turn::queued).isPresent();
    String conversation =
        status.queuePartitionKey() != null
            ? status.queuePartitionKey()
            : String.valueOf(
                status.attributes() == null ? "" : status.attributes().get("conversation_key"));
    Optional<String> error =
        switch (status.status()) {
          case CANCELLED -> Optional.of("cancelled");
          case MAX_RECOVERY_ATTEMPTS_EXCEEDED ->
              Optional.of("gave up after too many recovery attempts");
          case ERROR ->
              Optional.of(
                  status.error() == null || status.error().message() == null
                      ? "failed"
                      : status.error().message());
          default -> Optional.empty();
        };
    return new Run(
        status.workflowId(),
        waiting ? "queued" : status(status.status()),
        status.workflowName(),
        conversation,
        status.status() == WorkflowState.SUCCESS
            ? Optional.ofNullable(status.output()).map(String::valueOf)
            : Optional.empty(),
        error,
        status.createdAt(),
        waiting
            ? Optional.empty()
            : turn.flatMap(ConversationGate.Turn::startedAt)
                .or(() -> Optional.of(unblocked(status, turn))),
        done
            ? turn.flatMap(ConversationGate.Turn::finishedAt)
                .or(() -> Optional.ofNullable(status.updatedAt()))
            : Optional.empty(),
        steps.stream()
            .map(
                step ->
                    new Step(
                        step.functionName(),
                        step.error() != null
                            ? "failed"
                            : step.completedAt() != null ? "succeeded" : "running",
                        step.startedAt() != null && step.completedAt() != null
                            ? Optional.of(
                                Duration.between(step.startedAt(), step.completedAt()).toMillis())
                            : Optional.empty()))
            .toList());
  }

  /** {@code run_} and 32 hex digits of the key's SHA-256: the same key, the same run. */
  static String runIdFor(String idempotencyKey) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest(idempotencyKey.getBytes(StandardCharsets.UTF_8));
      return "run_" + HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** This kernel's executor id: made once per JODO_HOME, so a restart resumes its own runs. */
  private static String executorId(Path home) {
    Path file = home.resolve("executor.id");
    try {
      if (Files.isRegularFile(file)) {
        String id = Files.readString(file).strip();
        if (!id.isEmpty()) {
          return id;
        }
      }
      String id = "kernel-" + UUID.randomUUID();
      Files.createDirectories(home);
      Files.writeString(file, id + "\n");
      return id;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the executor id in " + file, e);
    }
  }

  @Override
  public void close() {
    scheduleWatch.shutdownNow();
    dbos.shutdown();
  }
}
