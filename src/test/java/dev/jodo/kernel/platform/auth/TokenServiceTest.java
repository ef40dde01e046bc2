package dev.jodo.kernel.platform.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.Secret;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.testing.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TokenServiceTest {
  private static DatabaseTarget.External target;
  private static Database database;

  @BeforeAll
  static void migrate() {
    target = TestPostgres.freshDatabase(TokenServiceTest.class);
    database = Database.open(target, null, "tokens");
    database.migrate(Database.KERNEL_MIGRATIONS);
  }

  @AfterAll
  static void drop() {
    database.close();
    TestPostgres.drop(target);
  }

  @BeforeEach
  void emptyTokens() throws Exception {
    try (Connection c = database.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("DELETE FROM api_tokens");
    }
  }

  @Test
  void kernelsBootingAtOnceCreateExactlyOneAdminToken() throws Exception {
    int kernels = 8;
    ExecutorService pool = Executors.newFixedThreadPool(kernels);
    CountDownLatch start = new CountDownLatch(1);
    List<Callable<Optional<Secret>>> boots = new ArrayList<>();
    for (int i = 0; i < kernels; i++) {
      TokenService service = new TokenService(database.dataSource(), Optional.empty());
      boots.add(
          () -> {
            start.await();
            return service.createFirstAdminToken();
          });
    }
    List<Future<Optional<Secret>>> results = new ArrayList<>();
    for (Callable<Optional<Secret>> boot : boots) {
      results.add(pool.submit(boot));
    }
    start.countDown();
    List<Secret> created = new ArrayList<>();
    for (Future<Optional<Secret>> result : results) {
      result.get().ifPresent(created::add);
    }
    pool.shutdown();
    assertThat(created).hasSize(1);
    TokenService any = new TokenService(database.dataSource(), Optional.empty());
    assertThat(any.authenticate(created.get(0).value())).contains(Principal.administrator());
    assertThat(any.createFirstAdminToken()).isEmpty();
  }

  @Test
  void rotationRefusesTheOldAdminTokenAtOnce() {
    TokenService service = new TokenService(database.dataSource(), Optional.empty());
    Secret first = service.createFirstAdminToken().orElseThrow();
    assertThat(service.authenticate(first.value())).isPresent();

    Secret second = service.rotateAdminToken();
    assertThat(second.value()).startsWith("jodo_admin_").isNotEqualTo(first.value());
    assertThat(service.authenticate(first.value())).isEmpty();
    assertThat(service.authenticate(second.value())).contains(Principal.administrator());
  }

  @Test
  void otherKernelsSeeRevocationWithinTheCacheLifetime() {
    AtomicLong clock = new AtomicLong();
    TokenService kernelA = new TokenService(database.dataSource(), Optional.empty(), clock::get);
    TokenService kernelB = new TokenService(database.dataSource(), Optional.empty());
    IssuedToken token = kernelB.createAgentToken("jodo", EnumSet.of(Scope.THINK));
    assertThat(kernelA.authenticate(token.token().value()))
        .hasValueSatisfying(p -> assertThat(p.scopes()).containsExactly(Scope.THINK));

    assertThat(kernelB.revokeAgentToken(token.record().id())).isTrue();
    // Kernel A still has the principal cached...
    assertThat(kernelA.authenticate(token.token().value())).isPresent();
    // ...until the cache entry expires.
    clock.addAndGet(TokenService.CACHE_TTL.toNanos() + 1);
    assertThat(kernelA.authenticate(token.token().value())).isEmpty();
  }

  @Test
  void environmentAdminTokenReplacesTheStoredOne() {
    TokenService stored = new TokenService(database.dataSource(), Optional.empty());
    Secret databaseAdmin = stored.createFirstAdminToken().orElseThrow();

    TokenService fromEnv =
        new TokenService(
            database.dataSource(), Optional.of(new Secret("env-admin-token-0123456789")));
    assertThat(fromEnv.authenticate("env-admin-token-0123456789"))
        .contains(Principal.administrator());
    assertThat(fromEnv.authenticate(databaseAdmin.value())).isEmpty();
    assertThat(fromEnv.createFirstAdminToken()).isEmpty();
    assertThatThrownBy(fromEnv::rotateAdminToken)
        .isInstanceOf(TokenException.class)
        .hasMessage(
            "the admin token is set by JODO_ADMIN_TOKEN; change that variable and restart instead");
  }

  @Test
  void agentTokensCarryOnlyTheirScopes() {
    TokenService service = new TokenService(database.dataSource(), Optional.empty());
    IssuedToken issued =
        service.createAgentToken("jodo", EnumSet.of(Scope.THINK, Scope.MEMORY, Scope.STATUS));
    Principal principal = service.authenticate(issued.token().value()).orElseThrow();
    assertThat(principal.name()).isEqualTo("jodo");
    assertThat(principal.admin()).isFalse();
    assertThat(principal.allows(Scope.MEMORY)).isTrue();
    assertThat(principal.allows(Scope.COMMIT)).isFalse();
    assertThat(principal.allows(Scope.ADMIN)).isFalse();
    assertThat(issued.toString()).doesNotContain(issued.token().value());
  }

  @Test
  void agentTokenRequestsAreValidated() {
    TokenService service = new TokenService(database.dataSource(), Optional.empty());
    assertThatThrownBy(() -> service.createAgentToken("jodo", Set.of()))
        .hasMessage(
            "scopes: empty; grant at least one of think, memory, budget, status, genesis, commit, history, events, runs");
    assertThatThrownBy(() -> service.createAgentToken("jodo", EnumSet.of(Scope.ADMIN)))
        .hasMessageStartingWith("scopes: 'admin' cannot be granted to an agent token");
    assertThatThrownBy(() -> service.createAgentToken("../etc", EnumSet.of(Scope.THINK)))
        .hasMessage(
            "agent: '../etc' is not a valid agent name; use lowercase letters, digits, '-' or '_' (at most 50)");
  }

  @Test
  void oversizedOrEmptyBearerValuesAreRejectedWithoutALookup() {
    TokenService service = new TokenService(database.dataSource(), Optional.empty());
    assertThat(service.authenticate("")).isEmpty();
    assertThat(service.authenticate("x".repeat(300))).isEmpty();
  }
}
