package dev.jodo.kernel.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.agents.brain.Brain;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.http.ApiException;
import dev.jodo.kernel.platform.http.Caller;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.platform.http.QueryParams;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Seed 000's lifecycle API: {@code POST /api/commit}, {@code GET /api/history}, {@code POST
 * /api/rollback}, {@code POST /api/restart}, and for the dashboard {@code GET /api/agents} and
 * {@code POST /api/agents/{name}/restart|rollback|kill|rebirth}.
 *
 * <p>An agent token acts on its own agent. The admin names one with {@code agent} (in the body, or
 * the query for GET); without it, the genesis agent. Commit and history work on any kernel; the
 * process controls only on the kernel supervising the agent (409 elsewhere, naming it).
 */
public final class AgentRoutes implements Routes {
  private static final int MAX_MESSAGE = 10_000;

  private final AgentsModule agents;
  private final AgentControls controls;
  private final String genesisName;
  private final ObjectMapper mapper;
  private final Clock clock;

  public AgentRoutes(AgentsModule agents, String genesisName, ObjectMapper mapper, Clock clock) {
    this.agents = agents;
    this.controls = new AgentControls(agents);
    this.genesisName = genesisName;
    this.mapper = mapper;
    this.clock = clock;
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.post("/api/commit", this::commit, Scope.COMMIT);
    routes.get("/api/history", this::history, Scope.HISTORY);
    routes.post("/api/rollback", ctx -> rollback(ctx, null), Scope.ADMIN);
    routes.post("/api/restart", ctx -> restart(ctx, null), Scope.ADMIN);
    routes.get("/api/agents", this::list, Scope.STATUS);
    routes.post(
        "/api/agents/{name}/restart", ctx -> restart(ctx, ctx.pathParam("name")), Scope.ADMIN);
    routes.post(
        "/api/agents/{name}/rollback", ctx -> rollback(ctx, ctx.pathParam("name")), Scope.ADMIN);
    routes.post("/api/agents/{name}/kill", this::kill, Scope.ADMIN);
    routes.post("/api/agents/{name}/rebirth", this::rebirth, Scope.ADMIN);
  }

  private void commit(Context ctx) {
    JsonNode body = Json.readObject(ctx, mapper);
    allowOnly(body, Set.of("message", "agent"));
    JsonNode message = body.path("message");
    if (!message.isTextual() || message.asText().isBlank()) {
      throw ApiException.invalidField(
          "message", "missing; say what changed, e.g. {\"message\": \"Added a chat page\"}");
    }
    if (message.asText().length() > MAX_MESSAGE) {
      throw ApiException.invalidField(
          "message", "is longer than " + MAX_MESSAGE + " characters; shorten it");
    }
    AgentsModule.Agent agent = target(ctx, text(body, "agent"));
    Brain.Committed committed = brain(() -> agent.brain().commitAll(message.asText().strip()));
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("hash", committed.hash());
    answer.put("timestamp", committed.timestamp().toString());
    answer.put("changed", committed.changed());
    ctx.json(answer);
  }

  private void history(Context ctx) {
    AgentsModule.Agent agent = target(ctx, Optional.ofNullable(ctx.queryParam("agent")));
    int limit = QueryParams.integer(ctx, "limit", 50, 1, 1000);
    List<Brain.HistoryEntry> entries = brain(() -> agent.brain().history(limit));
    List<Map<String, Object>> commits =
        entries.stream()
            .map(
                entry -> {
                  Map<String, Object> commit = new LinkedHashMap<>();
                  commit.put("hash", entry.hash());
                  commit.put("message", entry.message());
                  commit.put("timestamp", entry.timestamp().toString());
                  commit.put("tag", entry.tag().orElse(null));
                  return commit;
                })
            .toList();
    ctx.json(Map.of("commits", commits));
  }

  private void rollback(Context ctx, String named) {
    JsonNode body = Json.readObject(ctx, mapper);
    allowOnly(body, named == null ? Set.of("target", "agent") : Set.of("target"));
    JsonNode target = body.path("target");
    if (!target.isTextual() || target.asText().isBlank()) {
      throw ApiException.invalidField(
          "target", "missing; name a tag or commit hash, e.g. {\"target\": \"stable-v2\"}");
    }
    String agent =
        target(ctx, named == null ? text(body, "agent") : Optional.of(named)).config().name();
    Brain.Rollback done = controls.rollback(agent, target.asText().trim());
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("status", "rolling_back");
    answer.put("from", done.from());
    answer.put("to", done.to());
    answer.put("hash", done.toHash());
    ctx.json(answer);
  }

  private void restart(Context ctx, String named) {
    Optional<String> name = Optional.ofNullable(named);
    if (named == null && !ctx.body().isBlank()) {
      JsonNode body = Json.readObject(ctx, mapper);
      allowOnly(body, Set.of("agent"));
      name = text(body, "agent");
    }
    ctx.json(control("restarting", controls.restart(target(ctx, name).config().name())));
  }

  private void kill(Context ctx) {
    ctx.json(
        control(
            "killed",
            controls.kill(target(ctx, Optional.of(ctx.pathParam("name"))).config().name())));
  }

  private void rebirth(Context ctx) {
    ctx.json(
        control(
            "rebirthing",
            controls.rebirth(target(ctx, Optional.of(ctx.pathParam("name"))).config().name())));
  }

  private void list(Context ctx) {
    ctx.json(
        Map.of(
            "agents",
            agents.views().stream().map(view -> StatusView.of(view, clock.instant())).toList()));
  }

  private static Map<String, Object> control(String status, long previousPid) {
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("status", status);
    answer.put("previous_pid", previousPid);
    return answer;
  }

  /**
   * The agent a request acts on: an agent token's own; for the admin the named one, or the genesis
   * agent.
   */
  private AgentsModule.Agent target(Context ctx, Optional<String> named) {
    Principal caller = Caller.of(ctx);
    String name;
    if (caller.admin()) {
      name = named.map(String::trim).orElse(genesisName);
    } else {
      name = caller.name();
      if (named.isPresent() && !named.get().trim().equals(name)) {
        throw ApiException.forbidden(
            "this token belongs to agent '" + name + "'; it cannot act on '" + named.get() + "'");
      }
    }
    return controls.agent(name);
  }

  private interface BrainCall<T> {
    T call();
  }

  private static <T> T brain(BrainCall<T> call) {
    try {
      return call.call();
    } catch (RuntimeException e) {
      throw AgentControls.brainError(e);
    }
  }

  private static Optional<String> text(JsonNode body, String field) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isTextual() || value.asText().isBlank()) {
      throw ApiException.invalidField(field, "must be an agent's name, e.g. \"jodo\"");
    }
    return Optional.of(value.asText());
  }

  private static void allowOnly(JsonNode body, Set<String> known) {
    Iterator<String> names = body.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        throw ApiException.invalidField(
            name,
            "unknown field; allowed here: " + String.join(", ", known.stream().sorted().toList()));
      }
    }
  }

  /** Seed 000's {@code jodo} section of {@code /api/status}, for one agent. */
  public static final class StatusView {
    private StatusView() {}

    public static Map<String, Object> of(AgentsModule.View view, Instant now) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("name", view.name());
      if (view.status().isEmpty()) {
        out.put("status", "starting");
        out.put("host", view.host());
        out.put("detail", "no kernel has supervised this agent yet");
        return out;
      }
      AgentSupervisor.Status status = view.status().get();
      out.put("status", status.state());
      out.put("pid", status.pid());
      out.put(
          "uptime_seconds",
          status.pid() > 0 && status.startedAt() != null
              ? Duration.between(status.startedAt(), now).toSeconds()
              : 0);
      out.put(
          "last_health_check", status.lastCheck() == null ? null : status.lastCheck().toString());
      out.put("health_check_ok", status.healthy());
      out.put("restarts_today", status.restartsToday());
      out.put("current_git_tag", status.gitTag().orElse(null));
      out.put("current_git_hash", status.gitHash().orElse(null));
      out.put("host", view.host());
      out.put("supervised_by", view.kernel());
      status.detail().ifPresent(detail -> out.put("detail", detail));
      return out;
    }
  }
}
