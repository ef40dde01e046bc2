package dev.jodo.kernel.gateway;

import dev.jodo.kernel.gateway.provider.ChatRequest;
import dev.jodo.kernel.gateway.provider.ChatResult;
import dev.jodo.kernel.gateway.provider.EmbeddingResult;
import dev.jodo.kernel.gateway.provider.ProviderClient;
import dev.jodo.kernel.gateway.provider.ProviderException;
import dev.jodo.kernel.gateway.provider.StreamListener;
import dev.jodo.kernel.gateway.provider.Usage;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.config.QuotaConfig;
import dev.jodo.kernel.platform.http.ApiException;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The inference gateway: route, admit (quotas and the budget's pessimistic worst case: see {@link
 * BudgetLedger}), wait for a provider slot by priority, call, settle (written after the answer).
 * Retryable provider failures release the admission and move on to the next candidate.
 *
 * <pre>{@code
 * Completion done = gateway.complete(caller, Route.of(Intent.CODE), request, Priority.NORMAL, Optional.empty());
 * }</pre>
 */
public final class Gateway {
  private final Router router;
  private final BudgetLedger ledger;
  private final QuotaConfig quotas;
  private final Map<String, ProviderClient> clients;
  private final Map<String, AdmissionQueue> queues;
  private final TokenCounts tokens = new TokenCounts();
  private final GatewayMetrics metrics;
  private final Clock clock;

  Gateway(
      Router router,
      BudgetLedger ledger,
      QuotaConfig quotas,
      Map<String, ProviderClient> clients,
      Map<String, AdmissionQueue> queues,
      GatewayMetrics metrics,
      Clock clock) {
    this.router = router;
    this.ledger = ledger;
    this.quotas = quotas;
    this.clients = clients;
    this.queues = queues;
    this.metrics = metrics;
    this.clock = clock;
  }

  /**
   * Serves one chat call, streamed to {@code stream} when present. Failures the caller must see are
   * {@link ApiException}s: 400 (rejected request), 429 (quota, with Retry-After), 503 ({@code
   * no_provider} naming why for each provider, or a full queue).
   */
  @SuppressWarnings("try") // the slot is held for the duration of the call, unreferenced
  public Completion complete(
      Principal caller,
      Route route,
      ChatRequest request,
      Priority priority,
      Optional<StreamListener> stream) {
    long inputBound = TokenCounts.upperBound(request);
    Router.Plan plan = plan(route, inputBound, request.maxTokens());
    Attempts attempts =
        new Attempts(caller, route.intent(), inputBound, inputBound + request.maxTokens(), plan);
    AtomicBoolean started = new AtomicBoolean();
    Optional<StreamListener> tracked = stream.map(listener -> tracking(listener, started));
    while (true) {
      Attempts.Reserved reserved = attempts.next();
      Candidate candidate = reserved.candidate();
      ChatRequest concrete = request.withModel(candidate.model().name());
      stream.ifPresent(
          listener -> {
            if (listener instanceof SseWriter writer) {
              writer.model(candidate.model().name());
            }
          });
      ChatResult result;
      try (AdmissionQueue.Slot slot = slot(candidate, priority, reserved)) {
        ProviderClient client = clients.get(candidate.provider().name());
        result =
            tracked.isPresent() ? client.stream(concrete, tracked.get()) : client.chat(concrete);
      } catch (ProviderException.Aborted e) {
        // Our client left mid-stream: bill what the provider produced until we hung up.
        Usage billed = counted(concrete, e.partial());
        settle(
            reserved,
            billed,
            Pricing.actual(candidate.model(), billed.inputTokens(), billed.outputTokens()));
        metrics.call(candidate, route.intent(), "client_aborted");
        throw new ApiException(499, "client_closed", "the client closed the stream");
      } catch (ProviderException e) {
        if (!e.retryable() || started.get()) {
          Usage partial = new Usage(tokens.countInput(concrete), 0);
          release(reserved, e.getMessage(), partial);
          metrics.call(candidate, route.intent(), "failed");
          if (e instanceof ProviderException.Rejected rejected) {
            throw new ApiException(
                400,
                "upstream_rejected",
                candidate.provider().name() + ": " + rejected.getMessage());
          }
          throw new ApiException(
              502, "upstream_failed", candidate.provider().name() + ": " + e.getMessage());
        }
        release(reserved, e.getMessage(), new Usage(0, 0));
        metrics.call(candidate, route.intent(), "fallback");
        attempts.failed(candidate, e.getMessage());
        continue;
      }
      Usage usage = result.reportedUsage().orElseGet(() -> counted(concrete, result));
      BigDecimal cost =
          Pricing.actual(candidate.model(), usage.inputTokens(), usage.outputTokens());
      Map<String, BigDecimal> spent = settle(reserved, usage, cost);
      metrics.call(candidate, route.intent(), "ok");
      metrics.cost(candidate, cost);
      return new Completion(
          result,
          candidate.provider().name(),
          candidate.model().name(),
          usage,
          cost,
          reserved.ticket().usageId(),
          spent);
    }
  }

  /** Embeds {@code inputs} with the route's provider; budgets and quotas apply as for chat. */
  @SuppressWarnings("try") // as in complete()
  public Embedding embed(Principal caller, Route route, List<String> inputs, Priority priority) {
    long inputBound = TokenCounts.upperBound(inputs);
    Router.Plan plan = plan(route, inputBound, 0);
    Attempts attempts = new Attempts(caller, route.intent(), inputBound, inputBound, plan);
    while (true) {
      Attempts.Reserved reserved = attempts.next();
      Candidate candidate = reserved.candidate();
      EmbeddingResult result;
      try (AdmissionQueue.Slot slot = slot(candidate, priority, reserved)) {
        result = clients.get(candidate.provider().name()).embed(candidate.model().name(), inputs);
      } catch (ProviderException e) {
        release(reserved, e.getMessage(), new Usage(0, 0));
        if (!e.retryable()) {
          throw new ApiException(
              400, "upstream_rejected", candidate.provider().name() + ": " + e.getMessage());
        }
        attempts.failed(candidate, e.getMessage());
        continue;
      }
      int used = result.reportedInputTokens().orElseGet(() -> tokens.countInputs(inputs));
      BigDecimal cost = Pricing.actual(candidate.model(), used, 0);
      settle(reserved, new Usage(used, 0), cost);
      metrics.call(candidate, route.intent(), "ok");
      metrics.cost(candidate, cost);
      return new Embedding(
          result.vectors(), candidate.provider().name(), candidate.model().name(), used, cost);
    }
  }

  /**
   * Waits until this kernel's ledger writes so far are committed: every call answered before is
   * then in {@code budget_usage}.
   */
  public void flushLedger() {
    try {
      ledger.flush();
    } catch (SQLException e) {
      throw new IllegalStateException("budget ledger: " + e.getMessage(), e);
    }
  }

  /**
   * Gives back what this kernel's budget leases hold beyond their calls in flight, closes those
   * with none, and flushes: what the kernel does after a second without calls, at once. For tests
   * that reset the ledger's tables under a running gateway.
   */
  public void returnLeases() {
    try {
      ledger.returnLeases();
    } catch (SQLException e) {
      throw new IllegalStateException("budget ledger: " + e.getMessage(), e);
    }
  }

  private Router.Plan plan(Route route, long inputBound, int maxTokens) {
    if (route.model().isEmpty()) {
      return router.forIntent(route.intent(), inputBound, maxTokens);
    }
    return router
        .forModel(route.model().get(), route.intent(), inputBound, maxTokens)
        .orElseThrow(
            () ->
                ApiException.invalidField(
                    "model",
                    "'"
                        + route.model().get()
                        + "' is not a configured model; use one of GET /v1/models, or jodo:<intent>"));
  }

  private AdmissionQueue.Slot slot(
      Candidate candidate, Priority priority, Attempts.Reserved reserved) {
    AdmissionQueue queue = queues.get(candidate.provider().name());
    Duration timeout = candidate.provider().queueTimeout();
    long waitStart = System.nanoTime();
    try {
      AdmissionQueue.Slot slot = queue.acquire(priority, timeout);
      metrics.queueWait(candidate, System.nanoTime() - waitStart);
      return slot;
    } catch (AdmissionQueue.QueueTimeout e) {
      release(reserved, "queue timeout: " + e.getMessage(), new Usage(0, 0));
      throw ApiException.unavailableRetry(
          "provider_busy",
          candidate.provider().name() + " is at its concurrency limit: " + e.getMessage(),
          timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      release(reserved, "interrupted while queued", new Usage(0, 0));
      throw new IllegalStateException("interrupted while waiting for " + candidate.label(), e);
    }
  }

  private Usage counted(ChatRequest request, ChatResult result) {
    int out = tokens.count(result.content());
    for (var call : result.toolCalls()) {
      out += tokens.count(call.name()) + tokens.count(call.argumentsJson());
    }
    return new Usage(tokens.countInput(request), out);
  }

  /**
   * Queues the settlement and returns every provider's spend this month, with this call at its
   * cost, as well as this kernel knows it.
   */
  private Map<String, BigDecimal> settle(Attempts.Reserved reserved, Usage usage, BigDecimal cost) {
    return ledger.settle(
        reserved.ticket(),
        reserved.candidate(),
        reserved.agent(),
        reserved.intent(),
        "settled",
        usage.inputTokens(),
        usage.outputTokens(),
        cost,
        null,
        Optional.of(usage.total()),
        clock.instant());
  }

  private void release(Attempts.Reserved reserved, String error, Usage usage) {
    BigDecimal cost =
        Pricing.actual(reserved.candidate().model(), usage.inputTokens(), usage.outputTokens());
    ledger.settle(
        reserved.ticket(),
        reserved.candidate(),
        reserved.agent(),
        reserved.intent(),
        "failed",
        usage.inputTokens(),
        usage.outputTokens(),
        cost,
        error,
        Optional.empty(),
        clock.instant());
  }

  private static StreamListener tracking(StreamListener listener, AtomicBoolean started) {
    return new StreamListener() {
      @Override
      public void onText(String delta) throws Exception {
        started.set(true);
        listener.onText(delta);
      }

      @Override
      public void onToolCallDelta(int index, String id, String name, String argumentsDelta)
          throws Exception {
        started.set(true);
        listener.onToolCallDelta(index, id, name, argumentsDelta);
      }
    };
  }

  /** The candidates still to try for one request, and why the others were passed over. */
  private final class Attempts {
    private final Principal caller;
    private final Intent intent;
    private final long inputBound;
    private final long totalBound;
    private final List<Candidate> remaining;
    private final List<String> reasons;
    private Optional<Long> requestId = Optional.empty();

    record Reserved(Candidate candidate, BudgetLedger.Ticket ticket, String agent, Intent intent) {}

    Attempts(Principal caller, Intent intent, long inputBound, long totalBound, Router.Plan plan) {
      this.caller = caller;
      this.intent = intent;
      this.inputBound = inputBound;
      this.totalBound = totalBound;
      this.remaining = new ArrayList<>(plan.candidates());
      this.reasons = new ArrayList<>(plan.excluded());
    }

    Reserved next() {
      if (remaining.isEmpty()) {
        throw noProvider();
      }
      QuotaConfig.Limits limits =
          caller.admin() ? QuotaConfig.Limits.NONE : quotas.limitsFor(caller.name());
      BudgetLedger.Admission admission;
      try {
        admission =
            ledger.admit(
                caller.name(),
                clock.instant(),
                intent,
                requestId,
                inputBound,
                totalBound,
                limits,
                remaining);
      } catch (SQLException e) {
        throw new IllegalStateException("budget admission failed: " + e.getMessage(), e);
      }
      return switch (admission) {
        case BudgetLedger.Admitted admitted -> {
          for (int i = 0; i < admitted.index(); i++) {
            reasons.add(reason(remaining.get(i), admitted.spentSeen(), i, limits, BigDecimal.ZERO));
          }
          Candidate chosen = remaining.get(admitted.index());
          remaining.subList(0, admitted.index() + 1).clear();
          if (admitted.ticket() instanceof BudgetLedger.Reservation reservation) {
            requestId = reservation.requestId().or(() -> requestId);
          }
          yield new Reserved(chosen, admitted.ticket(), caller.name(), intent);
        }
        case BudgetLedger.Limited limited -> {
          metrics.limited(caller.name(), limited.kind());
          throw Reasons.limited(caller.name(), limited, limits, totalBound);
        }
        case BudgetLedger.Unaffordable unaffordable -> {
          for (int i = 0; i < remaining.size(); i++) {
            reasons.add(
                reason(
                    remaining.get(i),
                    unaffordable.spentSeen(),
                    i,
                    limits,
                    unaffordable.agentCost()));
          }
          remaining.clear();
          throw noProvider();
        }
      };
    }

    private String reason(
        Candidate candidate,
        List<Optional<BigDecimal>> seen,
        int index,
        QuotaConfig.Limits limits,
        BigDecimal agentCost) {
      Optional<BigDecimal> spent = index < seen.size() ? seen.get(index) : Optional.empty();
      if (spent.isEmpty() && limits.costPerMonth().isPresent()) {
        return Reasons.agentCost(candidate, caller.name(), agentCost, limits.costPerMonth().get());
      }
      return Reasons.unaffordable(candidate, intent, spent.orElse(BigDecimal.ZERO));
    }

    /** A retryable failure: the provider is skipped for the rest of this request. */
    void failed(Candidate candidate, String error) {
      reasons.add(candidate.label() + ": " + error);
      remaining.removeIf(c -> c.provider().name().equals(candidate.provider().name()));
    }

    private ApiException noProvider() {
      return ApiException.unavailable(
          "no_provider",
          "no provider can serve this "
              + intent.wire()
              + " request: "
              + (reasons.isEmpty()
                  ? "no provider is configured for it"
                  : String.join("; ", reasons)));
    }
  }
}
