package dev.jodo.kernel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.gateway.provider.ProviderClient;
import dev.jodo.kernel.gateway.provider.ProviderClients;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.http.Routes;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the gateway for one kernel (a client and an admission queue per enabled provider, the
 * ledger, the routes) and runs its housekeeping: reservations and budget leases whose kernel died
 * are marked abandoned, and the request log is pruned.
 */
public final class GatewayModule implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GatewayModule.class);
  private static final Duration HOUSEKEEPING_PERIOD = Duration.ofMinutes(1);

  private final Gateway gateway;
  private final List<Routes> routes;
  private final Map<String, ProviderClient> clients;
  private final ScheduledExecutorService housekeeping;
  private final BudgetLedger ledger;
  private final InferenceView view;

  public GatewayModule(
      KernelConfig config,
      DataSource dataSource,
      Clock clock,
      MeterRegistry registry,
      ObjectMapper mapper) {
    Map<String, ProviderClient> clients = new LinkedHashMap<>();
    Map<String, AdmissionQueue> queues = new LinkedHashMap<>();
    Duration longestTimeout = Duration.ofMinutes(2);
    for (ProviderConfig provider : config.providers().values()) {
      if (provider.enabled()) {
        clients.put(provider.name(), ProviderClients.create(provider, mapper));
        queues.put(provider.name(), new AdmissionQueue(provider.maxConcurrency()));
        Duration worst = provider.timeout().plus(provider.queueTimeout());
        longestTimeout = worst.compareTo(longestTimeout) > 0 ? worst : longestTimeout;
      }
    }
    this.clients = clients;
    BudgetLedger ledger = new BudgetLedger(dataSource);
    this.ledger = ledger;
    GatewayMetrics metrics = new GatewayMetrics(registry, queues);
    this.gateway =
        new Gateway(
            new Router(config.providers(), config.routing()),
            ledger,
            config.quotas(),
            clients,
            queues,
            metrics,
            clock);
    BudgetReport report = new BudgetReport(config.providers(), ledger, clock);
    this.view = new InferenceView(config.providers(), queues, ledger, dataSource, clock);
    this.routes =
        List.of(
            new ThinkRoutes(gateway, report, mapper),
            new OpenAiRoutes(gateway, config.providers(), mapper, clock));

    // A reservation older than any call could last belongs to a kernel that died mid-call.
    Duration abandonAfter = longestTimeout.plus(Duration.ofMinutes(5));
    this.housekeeping =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "jodo-gateway-housekeeping");
              thread.setDaemon(true);
              return thread;
            });
    housekeeping.scheduleWithFixedDelay(
        () -> {
          try {
            Instant now = clock.instant();
            int abandoned = ledger.abandonStale(now.minus(abandonAfter));
            if (abandoned > 0) {
              log.warn(
                  "marked {} reservation(s) abandoned: their kernel stopped mid-call; their"
                      + " worst-case cost stays counted",
                  abandoned);
            }
            int leases = ledger.reclaimLeases();
            if (leases > 0) {
              log.warn(
                  "abandoned {} budget lease(s) that their kernel stopped renewing: what they held"
                      + " stays counted",
                  leases);
            }
            ledger.pruneRequestLog(now.minus(Duration.ofHours(1)));
          } catch (SQLException | RuntimeException e) {
            log.warn("gateway housekeeping failed: {}", e.getMessage());
          }
        },
        HOUSEKEEPING_PERIOD.toSeconds(),
        HOUSEKEEPING_PERIOD.toSeconds(),
        TimeUnit.SECONDS);
  }

  public Gateway gateway() {
    return gateway;
  }

  /** Budgets, queues and recent calls for the control panel. */
  public InferenceView view() {
    return view;
  }

  public List<Routes> routes() {
    return routes;
  }

  @Override
  public void close() {
    housekeeping.shutdownNow();
    clients.values().forEach(ProviderClient::close);
    ledger.close(); // after the calls: their settlements are the last writes
  }
}
