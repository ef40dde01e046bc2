package dev.jodo.kernel.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.auth.IssuedToken;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.auth.TokenException;
import dev.jodo.kernel.platform.auth.TokenRecord;
import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.platform.http.ApiException;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Admin API for agent tokens: create (plaintext shown once), list, revoke. */
public final class TokenRoutes implements Routes {
  private final TokenService tokens;
  private final ObjectMapper mapper;

  public TokenRoutes(TokenService tokens, ObjectMapper mapper) {
    this.tokens = tokens;
    this.mapper = mapper;
  }

  record CreateTokenRequest(String agent, List<String> scopes) {}

  @Override
  public void register(RoutesConfig routes) {
    routes.post("/api/tokens", this::create, Scope.ADMIN);
    routes.get("/api/tokens", this::list, Scope.ADMIN);
    routes.delete("/api/tokens/{id}", this::revoke, Scope.ADMIN);
  }

  private void create(Context ctx) {
    CreateTokenRequest request = Json.read(ctx, mapper, CreateTokenRequest.class);
    if (request.agent() == null || request.agent().isBlank()) {
      throw ApiException.invalidField("agent", "missing; name the agent the token is for");
    }
    if (request.scopes() == null || request.scopes().isEmpty()) {
      throw ApiException.invalidField(
          "scopes", "missing; list at least one of " + Scope.grantable());
    }
    Set<Scope> scopes = EnumSet.noneOf(Scope.class);
    for (String name : request.scopes()) {
      scopes.add(
          Scope.parse(String.valueOf(name))
              .orElseThrow(
                  () ->
                      ApiException.invalidField(
                          "scopes", "'" + name + "' is not a scope; use " + Scope.grantable())));
    }
    IssuedToken issued;
    try {
      issued = tokens.createAgentToken(request.agent(), scopes);
    } catch (TokenException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    Map<String, Object> body = view(issued.record());
    body.put("token", issued.token().value());
    ctx.status(201).json(body);
  }

  private void list(Context ctx) {
    ctx.json(Map.of("tokens", tokens.list().stream().map(TokenRoutes::view).toList()));
  }

  private void revoke(Context ctx) {
    long id;
    try {
      id = Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      throw ApiException.invalidField("id", "'" + ctx.pathParam("id") + "' is not a token id");
    }
    if (!tokens.revokeAgentToken(id)) {
      throw ApiException.notFound("no live agent token with id " + id);
    }
    ctx.json(Map.of("id", id, "revoked", true));
  }

  private static Map<String, Object> view(TokenRecord record) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("id", record.id());
    view.put("kind", record.kind());
    view.put("agent", record.agent().orElse(null));
    view.put("prefix", record.prefix());
    view.put("scopes", record.scopes().stream().map(Scope::wireName).sorted().toList());
    view.put("created_at", record.createdAt().toString());
    view.put("revoked_at", record.revokedAt().map(Instant::toString).orElse(null));
    return view;
  }
}
