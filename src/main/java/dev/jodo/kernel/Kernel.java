package dev.jodo.kernel;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.agents.AgentRoutes;
import dev.jodo.kernel.agents.AgentsModule;
import dev.jodo.kernel.api.GenesisRoutes;
import dev.jodo.kernel.api.MetricsRoutes;
import dev.jodo.kernel.api.StatusRoutes;
import dev.jodo.kernel.api.TokenRoutes;
import dev.jodo.kernel.dashboard.Dashboard;
import dev.jodo.kernel.dashboard.DashboardRoutes;
import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.gateway.GatewayModule;
import dev.jodo.kernel.memory.EmbedderLoader;
import dev.jodo.kernel.memory.MemoryModule;
import dev.jodo.kernel.platform.auth.AdminTokenFile;
import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.Secret;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.platform.db.PrivatePostgres;
import dev.jodo.kernel.platform.http.HttpServer;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.platform.http.Routes;
import dev.jodo.kernel.runs.RunRoutes;
import dev.jodo.kernel.runs.RunsModule;
import dev.jodo.kernel.telegram.TelegramModule;
import dev.jodo.kernel.tools.WorkspaceTools;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: builds every service of one kernel through constructors and owns their
 * lifecycle. Nothing here is static, so tests run two kernels in one JVM on one database.
 *
 * <pre>{@code
 * try (Kernel kernel = Kernel.start(new ConfigLoader(System.getenv()).load(), Kernel.Options.defaults())) {
 *   System.out.println("listening on " + kernel.port());
 * }
 * }</pre>
 */
public final class Kernel implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Kernel.class);

  /**
   * What differs between production and tests: time, where progress goes, extra migrations, and how
   * long each SSH step to an agent's machine may take (10 s).
   */
  public record Options(
      Clock clock, Consumer<String> progress, List<String> migrations, Duration sshTimeout) {
    public static Options defaults() {
      return new Options(
          Clock.systemUTC(),
          line -> log.info(line),
          Database.KERNEL_MIGRATIONS,
          AgentsModule.SSH_TIMEOUT);
    }

    public Options withMigrations(List<String> locations) {
      return new Options(clock, progress, List.copyOf(locations), sshTimeout);
    }

    public Options withSshTimeout(Duration timeout) {
      return new Options(clock, progress, migrations, timeout);
    }
  }

  private final KernelConfig config;
  private final Database database;
  private final TokenService tokens;
  private final Gateway gateway;
  private final AgentsModule agents;
  private final HttpServer http;
  private final Optional<Secret> firstBootAdminToken;
  private final Deque<AutoCloseable> resources;

  private Kernel(
      KernelConfig config,
      Database database,
      TokenService tokens,
      Gateway gateway,
      AgentsModule agents,
      HttpServer http,
      Optional<Secret> firstBootAdminToken,
      Deque<AutoCloseable> resources) {
    this.config = config;
    this.database = database;
    this.tokens = tokens;
    this.gateway = gateway;
    this.agents = agents;
    this.http = http;
    this.firstBootAdminToken = firstBootAdminToken;
    this.resources = resources;
  }

  public static Kernel start(KernelConfig config, Options options) {
    Deque<AutoCloseable> resources = new ArrayDeque<>();
    try {
      Files.createDirectories(config.home());
      config.warnings().forEach(warning -> log.warn(warning));

      DatabaseTarget.External target =
          switch (config.database()) {
            case DatabaseTarget.External external -> external;
            case DatabaseTarget.Private local -> {
              PrivatePostgres postgres =
                  PrivatePostgres.start(config.home(), local, options.progress());
              resources.push(postgres);
              yield postgres.target();
            }
          };

      PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      resources.push(metrics::close);
      new ClassLoaderMetrics().bindTo(metrics);
      new JvmMemoryMetrics().bindTo(metrics);
      JvmGcMetrics gc = new JvmGcMetrics();
      gc.bindTo(metrics);
      resources.push(gc);
      new JvmThreadMetrics().bindTo(metrics);
      new ProcessorMetrics().bindTo(metrics);
      new UptimeMetrics().bindTo(metrics);

      Database database = Database.open(target, metrics, "kernel");
      resources.push(database);
      // The local embedding model (seconds of CPU) loads beside the rest of the start-up, or,
      // when a crash left runs to resume, once they have all been resumed (they come first).
      CompletableFuture<Void> runsResumed = new CompletableFuture<>();
      EmbedderLoader embedders =
          EmbedderLoader.start(
              config,
              RunsModule.hasInterruptedRuns(config, database.dataSource())
                  ? runsResumed
                  : CompletableFuture.completedFuture(null));
      resources.push(embedders);
      int applied = database.migrate(options.migrations());
      if (applied > 0) {
        log.info("applied {} database migration(s) on {}", applied, database.url());
      }

      TokenService tokens = new TokenService(database.dataSource(), config.adminToken());
      Optional<Secret> firstToken = tokens.createFirstAdminToken();
      firstToken.ifPresent(token -> new AdminTokenFile(config.home()).write(token));

      ObjectMapper mapper = Json.newMapper();
      GatewayModule gateway =
          new GatewayModule(config, database.dataSource(), options.clock(), metrics, mapper);
      resources.push(gateway);
      // Durable runs first: after a crash, recovery starts before the slower modules load.
      RunsModule runs =
          new RunsModule(
              config,
              database,
              gateway.gateway(),
              WorkspaceTools.open(config.workspaceDir(), database.dataSource()));
      resources.push(runs);
      // Closed before the runs module if the start fails: its stop ends the resume pass, which
      // must not begin a load then.
      resources.push(embedders::cancelPending);
      runs.resumed().whenComplete((done, failed) -> runsResumed.complete(null));
      MemoryModule memory =
          new MemoryModule(
              config, database.dataSource(), embedders, gateway.gateway(), options.clock(), mapper);
      resources.push(memory);
      runs.useMemory(memory.service());
      AgentsModule agents =
          new AgentsModule(config, database, tokens, options.clock(), options.sshTimeout());
      resources.push(agents);
      Instant startedAt = options.clock().instant();
      List<Routes> routes = new ArrayList<>();
      routes.add(
          new StatusRoutes(
              options.clock(),
              startedAt,
              Version.current(),
              database.dataSource(),
              agents,
              config.genesisName()));
      routes.add(new AgentRoutes(agents, config.genesisName(), mapper, options.clock()));
      routes.add(new RunRoutes(runs, mapper));
      routes.add(new GenesisRoutes(config.genesis()));
      routes.add(new TokenRoutes(tokens, mapper));
      routes.add(new MetricsRoutes(metrics));
      routes.addAll(gateway.routes());
      routes.addAll(memory.routes());
      routes.add(
          new DashboardRoutes(
              new Dashboard(
                  config,
                  database.dataSource(),
                  options.clock(),
                  tokens,
                  agents,
                  gateway.view(),
                  memory.service())));
      Optional<TelegramModule> telegram =
          config.telegram().map(settings -> new TelegramModule(settings, database, runs));
      telegram.ifPresent(
          module -> {
            resources.push(module);
            routes.addAll(module.routes());
          });
      runs.useReplies(telegram.map(module -> module));
      embedders.awaitLoaded(); // up means every configured part works, the embedder too
      HttpServer http =
          new HttpServer(
              config.bindHost(),
              config.port(),
              config.shutdownTimeout(),
              tokens,
              metrics,
              mapper,
              routes);
      http.start();
      resources.push(http::stop);
      agents.start(http.port());
      telegram.ifPresent(TelegramModule::start);
      log.info("Jodo Kernel {} listening on port {}", Version.current(), http.port());
      return new Kernel(
          config, database, tokens, gateway.gateway(), agents, http, firstToken, resources);
    } catch (IOException e) {
      closeAll(resources);
      throw new UncheckedIOException("cannot create JODO_HOME " + config.home(), e);
    } catch (RuntimeException e) {
      closeAll(resources);
      throw e;
    }
  }

  public int port() {
    return http.port();
  }

  public KernelConfig config() {
    return config;
  }

  public Database database() {
    return database;
  }

  public TokenService tokens() {
    return tokens;
  }

  public Gateway gateway() {
    return gateway;
  }

  public AgentsModule agents() {
    return agents;
  }

  /** The admin token created on this start (first boot only); shown once, then only by file. */
  public Optional<Secret> firstBootAdminToken() {
    return firstBootAdminToken;
  }

  /**
   * Stops accepting requests, drains in-flight ones for up to {@code shutdown_timeout_seconds},
   * closes the pool and stops the private Postgres if this kernel started it.
   */
  @Override
  public void close() {
    closeAll(resources);
    log.info("Jodo Kernel stopped");
  }

  private static void closeAll(Deque<AutoCloseable> resources) {
    while (!resources.isEmpty()) {
      AutoCloseable resource = resources.pop();
      try {
        resource.close();
      } catch (Exception e) {
        log.warn("error while shutting down: {}", e.toString());
      }
    }
  }
}
