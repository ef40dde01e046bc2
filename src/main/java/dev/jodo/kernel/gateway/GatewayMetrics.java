package dev.jodo.kernel.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.math.BigDecimal;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The gateway's meters: calls by outcome, cost, queue depth and wait, limit refusals. */
final class GatewayMetrics {
  private final MeterRegistry registry;

  GatewayMetrics(MeterRegistry registry, Map<String, AdmissionQueue> queues) {
    this.registry = registry;
    queues.forEach(
        (provider, queue) -> {
          Gauge.builder("jodo.gateway.queue.depth", queue, AdmissionQueue::waiting)
              .description("calls waiting for a provider slot")
              .tag("provider", provider)
              .register(registry);
          Gauge.builder("jodo.gateway.queue.in_use", queue, AdmissionQueue::inUse)
              .description("provider slots in use")
              .tag("provider", provider)
              .register(registry);
        });
  }

  void call(Candidate candidate, Intent intent, String outcome) {
    Counter.builder("jodo.gateway.calls")
        .tag("provider", candidate.provider().name())
        .tag("model", candidate.model().name())
        .tag("intent", intent.wire())
        .tag("outcome", outcome)
        .register(registry)
        .increment();
  }

  void cost(Candidate candidate, BigDecimal cost) {
    Counter.builder("jodo.gateway.cost.usd")
        .tag("provider", candidate.provider().name())
        .register(registry)
        .increment(cost.doubleValue());
  }

  void queueWait(Candidate candidate, long nanos) {
    Timer.builder("jodo.gateway.queue.wait")
        .description("time waiting for a provider slot")
        .tag("provider", candidate.provider().name())
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  void limited(String agent, String kind) {
    Counter.builder("jodo.gateway.limited").tag("kind", kind).register(registry).increment();
  }
}
