package dev.jodo.kernel.platform.auth;

import dev.jodo.kernel.platform.config.Secret;
import java.security.MessageDigest;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Issues and checks bearer tokens. Lookups are cached for a few seconds so the hot path costs no
 * database round trip; a rotation or revocation on this kernel takes effect at once, on other
 * kernels sharing the database within {@link #CACHE_TTL}.
 */
public final class TokenService {
  static final Duration CACHE_TTL = Duration.ofSeconds(5);
  private static final int CACHE_LIMIT = 10_000;
  private static final Pattern AGENT_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,49}");

  private final TokenStore store;
  private final Optional<byte[]> environmentAdminHash;
  private final LongSupplier nanoTime;
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

  private record Cached(Principal principal, long expiresAtNanos) {}

  public TokenService(DataSource dataSource, Optional<Secret> environmentAdminToken) {
    this(dataSource, environmentAdminToken, System::nanoTime);
  }

  TokenService(
      DataSource dataSource, Optional<Secret> environmentAdminToken, LongSupplier nanoTime) {
    this.store = new TokenStore(dataSource);
    this.environmentAdminHash = environmentAdminToken.map(t -> Tokens.hash(t.value()));
    this.nanoTime = nanoTime;
  }

  /** Whether the admin token comes from {@code JODO_ADMIN_TOKEN} rather than the database. */
  public boolean adminTokenFromEnvironment() {
    return environmentAdminHash.isPresent();
  }

  public Optional<Principal> authenticate(String presented) {
    if (presented == null || presented.isEmpty() || presented.length() > 256) {
      return Optional.empty();
    }
    byte[] hash = Tokens.hash(presented);
    if (environmentAdminHash.isPresent()) {
      if (MessageDigest.isEqual(hash, environmentAdminHash.get())) {
        return Optional.of(Principal.administrator());
      }
      if (presented.startsWith(Tokens.ADMIN_PREFIX)) {
        // A database admin token is not valid while the environment defines the admin token.
        return Optional.empty();
      }
    }
    String key = HexFormat.of().formatHex(hash);
    long now = nanoTime.getAsLong();
    Cached cached = cache.get(key);
    if (cached != null && now - cached.expiresAtNanos() < 0) {
      return Optional.of(cached.principal());
    }
    Optional<Principal> found = sql(() -> store.findLive(hash));
    if (found.isPresent()) {
      if (cache.size() >= CACHE_LIMIT) {
        cache.clear();
      }
      cache.put(key, new Cached(found.get(), now + CACHE_TTL.toNanos()));
    } else {
      cache.remove(key);
    }
    return found;
  }

  /**
   * On first boot (no admin token in the database and none in the environment) creates one and
   * returns its plaintext; otherwise empty. Safe when several kernels boot at once: one wins.
   */
  public Optional<Secret> createFirstAdminToken() {
    if (environmentAdminHash.isPresent() || sql(store::hasLiveAdmin)) {
      return Optional.empty();
    }
    String token = Tokens.generate(Tokens.ADMIN_PREFIX);
    boolean inserted =
        sql(() -> store.insertFirstAdmin(Tokens.hash(token), Tokens.displayPrefix(token)));
    return inserted ? Optional.of(new Secret(token)) : Optional.empty();
  }

  /** Replaces the admin token; the old one stops working at once on this kernel. */
  public Secret rotateAdminToken() {
    if (environmentAdminHash.isPresent()) {
      throw new TokenException(
          "the admin token is set by JODO_ADMIN_TOKEN; change that variable and restart instead");
    }
    String token = Tokens.generate(Tokens.ADMIN_PREFIX);
    sql(
        () -> {
          store.replaceAdmin(Tokens.hash(token), Tokens.displayPrefix(token));
          return null;
        });
    cache.clear();
    return new Secret(token);
  }

  public IssuedToken createAgentToken(String agent, Set<Scope> scopes) {
    if (agent == null || !AGENT_NAME.matcher(agent).matches()) {
      throw new TokenException(
          "agent: '"
              + agent
              + "' is not a valid agent name; use lowercase letters, digits, '-' or '_' (at most 50)");
    }
    if (scopes.isEmpty()) {
      throw new TokenException("scopes: empty; grant at least one of " + Scope.grantable());
    }
    if (scopes.contains(Scope.ADMIN)) {
      throw new TokenException(
          "scopes: 'admin' cannot be granted to an agent token; grant some of "
              + Scope.grantable());
    }
    String token = Tokens.generate(Tokens.AGENT_PREFIX);
    TokenRecord record =
        sql(
            () ->
                store.insertAgent(agent, scopes, Tokens.hash(token), Tokens.displayPrefix(token)));
    return new IssuedToken(record, new Secret(token));
  }

  public List<TokenRecord> list() {
    return sql(store::list);
  }

  public boolean revokeAgentToken(long id) {
    boolean revoked = sql(() -> store.revokeAgent(id));
    if (revoked) {
      cache.clear();
    }
    return revoked;
  }

  private interface SqlCall<T> {
    T call() throws SQLException;
  }

  private static <T> T sql(SqlCall<T> call) {
    try {
      return call.call();
    } catch (SQLException e) {
      throw new IllegalStateException("token store: " + e.getMessage(), e);
    }
  }
}
