package dev.jodo.kernel.gateway;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One kernel's single writer to the ledger: operations are applied in the order they were
 * submitted, and everything queued while a round trip is under way goes into the next one, as one
 * {@code jodo_ledger} call (one transaction, one commit). An idle kernel sends each admission at
 * once from the caller's own thread; a busy one amortizes the commit and the provider's row lock
 * over the whole batch. Settlements and usage rows, which nobody waits for, are applied by the
 * writer thread after letting them gather for a few milliseconds.
 *
 * <p>A batch that fails is retried one operation at a time, so that one bad operation fails alone;
 * a deadlock with another kernel's batch is retried once.
 */
final class LedgerWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LedgerWriter.class);
  private static final int MAX_BATCH = 256;
  private static final String DEADLOCK = "40P01";
  private static final JsonFactory JSON = new JsonFactory();

  /** One ledger operation; {@link Barrier} is none, it only marks a point in the queue. */
  sealed interface Op permits Admit, Settle, LeaseGrant, Usage, LeaseApply, Barrier {}

  /** What the writer tells its owner. */
  interface Listener {
    /** {@code ops} were committed; {@code month} is each provider's spend in budget_usage. */
    void committed(List<Op> ops, Map<String, BigDecimal> month);

    /** {@code op} failed on its own (after the retries) and will not be applied. */
    void failed(Op op, SQLException failure);

    /** About once a second, on the writer thread. */
    void tick();
  }

  /** jodo_admit's parameters; {@code result} gets its answer. */
  record Admit(
      String agent,
      String now,
      String intent,
      Optional<Long> requestId,
      long tokensIn,
      long tokensTotal,
      Integer rpm,
      Long tpm,
      Long tpd,
      BigDecimal cpm,
      List<Candidate> candidates,
      CompletableFuture<Answer> result)
      implements Op {}

  /** jodo_settle_usage's parameters; nobody waits for it (see {@link BudgetLedger#settle}). */
  record Settle(
      long usageId,
      String status,
      long tokensIn,
      long tokensOut,
      BigDecimal cost,
      String error,
      Optional<Long> requestId,
      Optional<Integer> requestTokens,
      String now)
      implements Op {}

  /**
   * jodo_lease's parameters: grant {@code lease} (its id {@code leaseId}, 0 for a new one) at least
   * {@code need}, up to {@code want}; {@code unit} is one call's worst case. {@code result} gets
   * the answer: outcome {@code granted} with the lease as {@code usageId} and the amount as {@code
   * used}, or {@code unaffordable}; {@code spentSeen} holds the provider's spend.
   */
  record LeaseGrant(
      BudgetLeases.Lease lease,
      long leaseId,
      String holder,
      String provider,
      String now,
      BigDecimal need,
      BigDecimal unit,
      BigDecimal want,
      BigDecimal limit,
      long createdNanos,
      CompletableFuture<Answer> result)
      implements Op {}

  /**
   * A call admitted under a lease (or for a free model: {@code lease} null), written once as its
   * settled (or failed) budget_usage row {@code id}; {@code back} is given back from the lease with
   * it. Nobody waits for it.
   */
  record Usage(
      BudgetLeases.Lease lease,
      long leaseId,
      long id,
      String provider,
      String model,
      String intent,
      long tokensIn,
      long tokensOut,
      BigDecimal cost,
      String agent,
      String status,
      String error,
      String created,
      String now,
      BigDecimal back,
      long createdNanos)
      implements Op {
    Usage under(BudgetLeases.Lease lease, long leaseId, BigDecimal back) {
      return new Usage(
          lease,
          leaseId,
          id,
          provider,
          model,
          intent,
          tokensIn,
          tokensOut,
          cost,
          agent,
          status,
          error,
          created,
          now,
          back,
          createdNanos);
    }
  }

  /** Gives {@code back} from a lease, or all it holds and closes it; renews it either way. */
  record LeaseApply(
      BudgetLeases.Lease lease, long leaseId, BigDecimal back, boolean close, long createdNanos)
      implements Op {}

  /** Completes once every operation submitted before it is committed. */
  record Barrier(CompletableFuture<Void> done) implements Op {
    Barrier() {
      this(new CompletableFuture<>());
    }
  }

  /** jodo_admit's row, with every provider's spend this month at the end of the batch. */
  record Answer(
      String outcome,
      int chosen,
      long usageId,
      Optional<Long> requestId,
      long retryAfterMillis,
      BigDecimal used,
      List<Optional<BigDecimal>> spentSeen,
      Map<String, BigDecimal> monthSpent) {
    /** The month's spend is the batch's last row: it joins each answer once the batch is read. */
    Answer withMonthSpent(Map<String, BigDecimal> month) {
      return new Answer(
          outcome, chosen, usageId, requestId, retryAfterMillis, used, spentSeen, month);
    }
  }

  private static final long TICK_NANOS = Duration.ofSeconds(1).toNanos();

  /**
   * How long the writer thread lets operations nobody waits for gather before it sends them: one
   * transaction for a few milliseconds of calls, sent while the next call waits on its provider
   * instead of competing with it for the CPU.
   */
  private static final long LINGER_NANOS = Duration.ofMillis(5).toNanos();

  private final DataSource dataSource;
  private final Listener listener;
  private final ConcurrentLinkedQueue<Op> queue = new ConcurrentLinkedQueue<>();
  private final ReentrantLock applying = new ReentrantLock();
  private final Semaphore wakeUp = new Semaphore(0);
  private final AtomicInteger queued = new AtomicInteger();
  private final Thread thread;
  private volatile boolean closed;

  LedgerWriter(DataSource dataSource, Listener listener) {
    this.dataSource = dataSource;
    this.listener = listener;
    this.thread = Thread.ofVirtual().name("jodo-ledger-writer").start(this::run);
  }

  /**
   * Queues {@code op}. An admission, a grant or a barrier, whose caller waits anyway, is applied on
   * the calling thread when no batch is under way (an idle kernel's admission then costs no handoff
   * to another thread and back); the rest, which nobody waits for, is left to the writer thread.
   * Submitting those never blocks, so it may be done under a lock.
   */
  void submit(Op op) {
    if (closed) {
      throw new IllegalStateException("the budget ledger is closed (the kernel is stopping)");
    }
    queue.add(op);
    queued.incrementAndGet();
    switch (op) {
      case Admit a -> drain(false);
      case LeaseGrant g -> drain(false);
      case Barrier b -> drain(false);
      case Settle s -> wakeUp.release();
      case Usage u -> wakeUp.release();
      case LeaseApply l -> wakeUp.release();
    }
  }

  /**
   * Applies the queue in batches while this thread holds the applying lock: the writer thread
   * ({@code wait}) until the queue is empty, a caller (not {@code wait}) one batch, which holds its
   * own operation, after which the writer thread is woken for whatever came in meanwhile. Whoever
   * holds the lock looks at the queue again after letting go, so an operation queued while a batch
   * was under way is never left behind. Only the holder takes operations off the queue: submission
   * order is the order of application.
   */
  private void drain(boolean wait) {
    List<Op> batch = new ArrayList<>();
    do {
      if (wait) {
        applying.lock();
      } else if (!applying.tryLock()) {
        return; // the holder will see what we queued
      }
      try {
        while (take(batch)) {
          try {
            apply(batch);
          } catch (RuntimeException e) {
            // apply() answers every operation itself; this is a bug, and the ledger must go on.
            log.error("budget ledger writer: {}", e.toString(), e);
          } finally {
            batch.clear();
          }
          if (!wait) {
            break;
          }
        }
      } finally {
        applying.unlock();
      }
      if (!wait && !queue.isEmpty()) {
        wakeUp.release();
        return;
      }
    } while (!queue.isEmpty());
  }

  /** The value of a ledger future; a failed operation's {@link SQLException} is rethrown. */
  static <T> T await(CompletableFuture<T> future) throws SQLException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the budget ledger", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof SQLException sql) {
        throw sql;
      }
      throw new IllegalStateException("budget ledger: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** Moves up to a batch's worth of the queue into {@code batch}; false if there was nothing. */
  private boolean take(List<Op> batch) {
    for (Op op; batch.size() < MAX_BATCH && (op = queue.poll()) != null; ) {
      batch.add(op);
      queued.decrementAndGet();
    }
    return !batch.isEmpty();
  }

  private void run() {
    long lastTick = System.nanoTime();
    while (!closed) {
      try {
        if (wakeUp.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          long deadline = System.nanoTime() + LINGER_NANOS;
          for (long left = LINGER_NANOS;
              left > 0 && !closed && queued.get() < MAX_BATCH / 4;
              left = deadline - System.nanoTime()) {
            wakeUp.tryAcquire(left, TimeUnit.NANOSECONDS);
          }
          wakeUp.drainPermits();
          drain(true);
        }
        if (System.nanoTime() - lastTick >= TICK_NANOS) {
          lastTick = System.nanoTime();
          listener.tick();
          drain(true);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        log.error("budget ledger writer: {}", e.toString(), e);
      }
    }
    drain(true);
    // Submitted while closing, after the last look at the queue: nobody will apply these.
    for (Op op; (op = queue.poll()) != null; ) {
      fail(op, new SQLException("the budget ledger is closed (the kernel is stopping)"));
    }
  }

  private void apply(List<Op> batch) {
    List<Op> work = batch.stream().filter(op -> !(op instanceof Barrier)).toList();
    if (!work.isEmpty()) {
      try {
        execute(work);
      } catch (SQLException e) {
        if (work.size() == 1) {
          retryAlone(work.get(0), e);
        } else {
          log.warn(
              "a batch of {} ledger operations failed ({}); applying them one by one",
              work.size(),
              e.getMessage());
          for (Op op : work) {
            try {
              execute(List.of(op));
            } catch (SQLException again) {
              retryAlone(op, again);
            }
          }
        }
      }
    }
    for (Op op : batch) {
      if (op instanceof Barrier barrier) {
        barrier.done().complete(null);
      }
    }
  }

  private void retryAlone(Op op, SQLException failure) {
    if (DEADLOCK.equals(failure.getSQLState())) {
      try {
        execute(List.of(op));
        return;
      } catch (SQLException again) {
        failure = again;
      }
    }
    fail(op, failure);
  }

  private void fail(Op op, SQLException failure) {
    switch (op) {
      case Admit admit -> admit.result().completeExceptionally(failure);
      case LeaseGrant grant -> grant.result().completeExceptionally(failure);
      case Settle settle ->
          log.error(
              "settling usage {} failed: {}; its reservation stays counted at its worst case"
                  + " until it is marked abandoned",
              settle.usageId(),
              failure.getMessage());
      case Usage usage ->
          log.error(
              "writing usage {} ({} {}, ${}) failed: {}; its budget lease stays counted until it"
                  + " expires",
              usage.id(),
              usage.provider(),
              usage.model(),
              usage.cost().toPlainString(),
              failure.getMessage());
      case LeaseApply apply ->
          log.warn(
              "updating budget lease {} failed: {}; it stays counted until it expires",
              apply.leaseId(),
              failure.getMessage());
      case Barrier barrier -> barrier.done().complete(null);
    }
    if (!(op instanceof Barrier)) {
      listener.failed(op, failure);
    }
  }

  private void execute(List<Op> ops) throws SQLException {
    Map<Integer, Answer> answers = new HashMap<>();
    Map<String, BigDecimal> month = Map.of();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT * FROM jodo_ledger(?::jsonb)")) {
      ps.setString(1, json(ops));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int index = rs.getInt("idx");
          if (index < 0) {
            month = spends(rs.getArray("month_providers"), rs.getArray("month_spent"));
          } else {
            answers.put(index, answer(rs));
          }
        }
      }
    }
    listener.committed(ops, month);
    for (int i = 0; i < ops.size(); i++) {
      CompletableFuture<Answer> result =
          switch (ops.get(i)) {
            case Admit admit -> admit.result();
            case LeaseGrant grant -> grant.result();
            default -> null;
          };
      if (result != null) {
        Answer answer = answers.get(i);
        if (answer == null) {
          result.completeExceptionally(new SQLException("jodo_ledger: no answer for " + i));
        } else {
          result.complete(answer.withMonthSpent(month));
        }
      }
    }
  }

  private static Answer answer(ResultSet rs) throws SQLException {
    long request = rs.getLong("request_id");
    Optional<Long> requestId = rs.wasNull() ? Optional.empty() : Optional.of(request);
    List<Optional<BigDecimal>> seen = new ArrayList<>();
    Array array = rs.getArray("spent_seen");
    if (array != null) {
      for (Object value : (Object[]) array.getArray()) {
        seen.add(Optional.ofNullable((BigDecimal) value));
      }
    }
    BigDecimal used = rs.getBigDecimal("used");
    return new Answer(
        rs.getString("outcome"),
        rs.getInt("chosen"),
        rs.getLong("usage_id"),
        requestId,
        rs.getLong("retry_after_ms"),
        used == null ? BigDecimal.ZERO : used,
        seen,
        Map.of());
  }

  private static Map<String, BigDecimal> spends(Array providers, Array spent) throws SQLException {
    Map<String, BigDecimal> month = new HashMap<>();
    if (providers != null && spent != null) {
      Object[] names = (Object[]) providers.getArray();
      Object[] amounts = (Object[]) spent.getArray();
      for (int i = 0; i < names.length; i++) {
        month.put((String) names[i], (BigDecimal) amounts[i]);
      }
    }
    return month;
  }

  /** The batch as jodo_ledger's JSON array; amounts are written exactly, as JSON numbers. */
  private static String json(List<Op> ops) {
    StringWriter out = new StringWriter(256 * ops.size());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartArray();
      for (Op op : ops) {
        g.writeStartObject();
        switch (op) {
          case Admit a -> {
            g.writeStringField("op", "admit");
            g.writeStringField("agent", a.agent());
            g.writeStringField("now", a.now());
            g.writeStringField("intent", a.intent());
            writeOptional(g, "request", a.requestId().orElse(null));
            g.writeNumberField("tokens_in", clamp(a.tokensIn()));
            g.writeNumberField("tokens_total", clamp(a.tokensTotal()));
            writeOptional(g, "rpm", a.rpm());
            writeOptional(g, "tpm", a.tpm());
            writeOptional(g, "tpd", a.tpd());
            if (a.cpm() != null) {
              g.writeNumberField("cpm", a.cpm());
            }
            g.writeArrayFieldStart("providers");
            for (Candidate candidate : a.candidates()) {
              g.writeString(candidate.provider().name());
            }
            g.writeEndArray();
            g.writeArrayFieldStart("models");
            for (Candidate candidate : a.candidates()) {
              g.writeString(candidate.model().name());
            }
            g.writeEndArray();
            g.writeArrayFieldStart("costs");
            for (Candidate candidate : a.candidates()) {
              g.writeNumber(candidate.worstCase());
            }
            g.writeEndArray();
            g.writeArrayFieldStart("limits");
            for (Candidate candidate : a.candidates()) {
              if (candidate.limit().isPresent()) {
                g.writeNumber(candidate.limit().get());
              } else {
                g.writeNull();
              }
            }
            g.writeEndArray();
          }
          case Settle s -> {
            g.writeStringField("op", "settle");
            g.writeNumberField("usage", s.usageId());
            g.writeStringField("status", s.status());
            g.writeNumberField("tokens_in", clamp(s.tokensIn()));
            g.writeNumberField("tokens_out", clamp(s.tokensOut()));
            g.writeNumberField("cost", s.cost());
            if (s.error() != null) {
              // PostgreSQL text cannot hold NUL, and a provider's error message might.
              g.writeStringField("error", s.error().replace("\u0000", ""));
            }
            writeOptional(g, "request", s.requestId().orElse(null));
            writeOptional(g, "request_tokens", s.requestTokens().orElse(null));
            g.writeStringField("now", s.now());
          }
          case LeaseGrant l -> {
            g.writeStringField("op", "lease");
            writeOptional(g, "lease", l.leaseId() == 0 ? null : l.leaseId());
            g.writeStringField("holder", l.holder());
            g.writeStringField("provider", l.provider());
            g.writeStringField("now", l.now());
            g.writeNumberField("need", l.need());
            g.writeNumberField("unit", l.unit());
            g.writeNumberField("want", l.want());
            g.writeNumberField("limit", l.limit());
            g.writeNumberField("ttl_ms", BudgetLeases.TTL.toMillis());
          }
          case Usage u -> {
            g.writeStringField("op", "usage");
            g.writeNumberField("id", u.id());
            writeOptional(g, "lease", u.leaseId() == 0 ? null : u.leaseId());
            g.writeStringField("provider", u.provider());
            g.writeStringField("model", u.model());
            g.writeStringField("intent", u.intent());
            g.writeNumberField("tokens_in", clamp(u.tokensIn()));
            g.writeNumberField("tokens_out", clamp(u.tokensOut()));
            g.writeNumberField("cost", u.cost());
            g.writeStringField("agent", u.agent());
            g.writeStringField("status", u.status());
            if (u.error() != null) {
              g.writeStringField("error", u.error().replace("\u0000", ""));
            }
            g.writeStringField("created", u.created());
            g.writeStringField("now", u.now());
            if (u.back().signum() != 0) {
              g.writeNumberField("back", u.back());
            }
            g.writeNumberField("ttl_ms", BudgetLeases.TTL.toMillis());
          }
          case LeaseApply a -> {
            g.writeStringField("op", "lease_apply");
            g.writeNumberField("lease", a.leaseId());
            g.writeStringField("provider", a.lease().provider);
            g.writeNumberField("back", a.back());
            g.writeBooleanField("close", a.close());
            g.writeNumberField("ttl_ms", BudgetLeases.TTL.toMillis());
          }
          case Barrier ignored -> throw new IllegalArgumentException("a barrier is not sent");
        }
        g.writeEndObject();
      }
      g.writeEndArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  private static void writeOptional(JsonGenerator g, String field, Number value)
      throws IOException {
    if (value != null) {
      g.writeNumberField(field, value.longValue());
    }
  }

  private static int clamp(long value) {
    return (int) Math.min(Integer.MAX_VALUE, value);
  }

  /** Applies what is queued (up to 10 s), then stops. */
  @Override
  public void close() {
    closed = true;
    wakeUp.release();
    try {
      if (!thread.join(Duration.ofSeconds(10))) {
        log.warn("the budget ledger writer did not finish its queue within 10 s");
        thread.interrupt();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
