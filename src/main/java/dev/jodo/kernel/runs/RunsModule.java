package dev.jodo.kernel.runs;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.StartWorkflowOptions;
import dev.dbos.transact.config.DBOSConfig;
import dev.dbos.transact.workflow.ListWorkflowsInput;
import dev.dbos.transact.workflow.Queue;
import dev.dbos.transact.workflow.StepInfo;
import dev.dbos.transact.workflow.WorkflowState;
import dev.dbos.transact.workflow.WorkflowStatus;
import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.db.Database;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Durable runs on DBOS Transact, in the kernel's own Postgres (schema {@code dbos}). An accepted
 * event becomes a workflow on one queue partitioned by conversation key: within a partition one run
 * at a time, in arrival order (a {@code run_order} sequence number as the queue priority);
 * partitions run side by side, their work (the gateway calls) at most {@code maxConcurrent} at once
 * per kernel. (DBOS's own worker concurrency counts per partition on a partitioned queue, so the
 * kernel limits its runs itself.) The application version is pinned, so runs accepted before a
 * deploy are recovered after it, and each kernel has a stable executor id of its own (kept in
 * {@code JODO_HOME/executor.id}), so a kernel that restarts resumes exactly the runs it had
 * started.
 */
public final class RunsModule implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RunsModule.class);

  /** Pinned: a version per build would strand the runs of the previous build (a DBOS pitfall). */
  static final String APP_VERSION = "jodo-runs-1";

  static final String QUEUE = "jodo-runs";

  /** The workflows an event {@code type} may name. */
  static final Set<String> WORKFLOWS = Set.of("message");

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
  private final DataSource dataSource;

  public RunsModule(KernelConfig config, Database database, Gateway gateway, int maxConcurrent) {
    this.dataSource = database.dataSource();
    DatabaseTarget.External target = database.target();
    DBOSConfig dbosConfig =
        DBOSConfig.defaults("jodo-kernel")
            .withDatabaseUrl(target.jdbcUrl())
            .withDbUser(target.user())
            .withDbPassword(target.password().value()) // may be empty: trust or peer auth
            .withAppVersion(APP_VERSION)
            .withExecutorId(executorId(config.home()))
            .withMigrate(true)
            .withUseListenNotify(true);
    this.dbos = new DBOS(dbosConfig);
    dbos.registerQueue(
        new Queue(QUEUE)
            .withConcurrency(1)
            .withPartitioningEnabled(true)
            .withPriorityEnabled(true)
            .withPollingInterval(Duration.ofMillis(50)));
    DBOS self = dbos;
    this.workflows =
        dbos.registerProxy(
            Workflows.class,
            new MessageWorkflow(
                () -> self,
                gateway,
                new Sessions(dataSource),
                config.genesisName(),
                new Semaphore(maxConcurrent, true),
                Workspace.open(config.workspaceDir(), config.home())));
    dbos.launch();
    log.info(
        "durable runs ready (DBOS {}, executor {})", DBOS.version(), executorId(config.home()));
  }

  /**
   * Accepts an event: starts its workflow on the conversation's partition and returns the run id.
   * The same {@code idempotencyKey} always gives the same run, started once.
   */
  public String submit(RunEvent event, Optional<String> idempotencyKey) {
    String runId =
        idempotencyKey.map(RunsModule::runIdFor).orElseGet(() -> "run_" + UUID.randomUUID());
    if (idempotencyKey.isPresent() && dbos.getWorkflowStatus(runId).isPresent()) {
      return runId;
    }
    StartWorkflowOptions options =
        new StartWorkflowOptions(runId)
            .withQueue(QUEUE)
            .withQueuePartitionKey(event.conversationKey())
            .withPriority(nextOrder())
            .withAttributes(Map.of("conversation_key", event.conversationKey()));
    switch (event.type()) {
      case "message" -> dbos.startWorkflow(() -> workflows.message(event), options);
      default -> throw new IllegalArgumentException("no workflow " + event.type());
    }
    return runId;
  }

  /** The run, or empty if there is none with this id. */
  public Optional<Run> get(String runId) {
    return dbos.getWorkflowStatus(runId).map(status -> view(status, dbos.listWorkflowSteps(runId)));
  }

  /** Runs, newest first, optionally of one conversation and in one status. */
  public List<Run> list(Optional<String> conversationKey, Optional<String> status, int limit) {
    ListWorkflowsInput input =
        new ListWorkflowsInput()
            .withQueueName(List.of(QUEUE))
            .withSortDesc(true)
            .withLimit(limit)
            .withLoadInput(false);
    if (conversationKey.isPresent()) {
      input = input.withAttributes(Map.of("conversation_key", conversationKey.get()));
    }
    if (status.isPresent()) {
      input = input.withStatus(states(status.get()));
    }
    return dbos.listWorkflows(input).stream().map(s -> view(s, List.of())).toList();
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
      case "queued" -> List.of(WorkflowState.ENQUEUED, WorkflowState.DELAYED);
      case "running" -> List.of(WorkflowState.PENDING);
      case "succeeded" -> List.of(WorkflowState.SUCCESS);
      case "failed" ->
          List.of(
              WorkflowState.ERROR,
              WorkflowState.CANCELLED,
              WorkflowState.MAX_RECOVERY_ATTEMPTS_EXCEEDED);
      default -> throw new IllegalArgumentException("unknown status " + status);
    };
  }

  private static Run view(WorkflowStatus status, List<StepInfo> steps) {
    boolean done = !status.status().isActive();
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
        status(status.status()),
        status.workflowName(),
        conversation,
        status.status() == WorkflowState.SUCCESS
            ? Optional.ofNullable(status.output()).map(String::valueOf)
            : Optional.empty(),
        error,
        status.createdAt(),
        Optional.ofNullable(status.startedAt()),
        done ? Optional.ofNullable(status.updatedAt()) : Optional.empty(),
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

  private int nextOrder() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT nextval('run_order')");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot number the run: " + e.getMessage(), e);
    }
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
    dbos.shutdown();
  }
}
