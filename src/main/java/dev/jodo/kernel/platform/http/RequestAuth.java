package dev.jodo.kernel.platform.http;

import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.auth.TokenService;
import io.javalin.http.Context;
import io.javalin.security.RouteRole;
import java.util.Optional;
import java.util.Set;

/** Checks the bearer token against the matched route's scope before the handler runs. */
final class RequestAuth {
  private static final String PRINCIPAL = "jodo.principal";
  private final TokenService tokens;

  RequestAuth(TokenService tokens) {
    this.tokens = tokens;
  }

  void check(Context ctx) {
    Set<RouteRole> roles = ctx.routeRoles();
    if (roles.isEmpty()) {
      return;
    }
    String header = ctx.header("Authorization");
    if (header == null || header.isBlank()) {
      ctx.header("WWW-Authenticate", "Bearer");
      throw ApiException.unauthorized(
          "missing bearer token; send Authorization: Bearer <token> (see ./jodo token)");
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      ctx.header("WWW-Authenticate", "Bearer");
      throw ApiException.unauthorized("Authorization must use the Bearer scheme");
    }
    Optional<Principal> principal = tokens.authenticate(header.substring(7).strip());
    if (principal.isEmpty()) {
      ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      throw ApiException.unauthorized("unknown or revoked token");
    }
    Principal who = principal.get();
    for (RouteRole role : roles) {
      if (role instanceof Scope scope && !who.allows(scope)) {
        throw ApiException.forbidden(
            scope == Scope.ADMIN
                ? "this endpoint needs the admin token"
                : "token of agent '" + who.name() + "' lacks scope '" + scope.wireName() + "'");
      }
    }
    ctx.attribute(PRINCIPAL, who);
  }

  /** The authenticated caller of a route that declared a scope. */
  static Principal principal(Context ctx) {
    Principal principal = ctx.attribute(PRINCIPAL);
    if (principal == null) {
      throw new IllegalStateException("route has no scope, so it has no principal: " + ctx.path());
    }
    return principal;
  }
}
