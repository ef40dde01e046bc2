package dev.jodo.kernel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.gateway.provider.ChatRequest;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.http.ApiException;
import dev.jodo.kernel.platform.http.Caller;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Seed 000's {@code POST /api/think} and {@code GET /api/budget}, field for field. */
final class ThinkRoutes implements Routes {
  private final Gateway gateway;
  private final BudgetReport budget;
  private final ObjectMapper mapper;

  ThinkRoutes(Gateway gateway, BudgetReport budget, ObjectMapper mapper) {
    this.gateway = gateway;
    this.budget = budget;
    this.mapper = mapper;
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.post("/api/think", this::think, Scope.THINK);
    routes.get("/api/budget", this::budget, Scope.BUDGET);
  }

  private void think(Context ctx) {
    JsonNode body = Json.readObject(ctx, mapper);
    Intent intent = intent(body);
    Priority priority = priority(ctx, body, intent);
    ChatRequest request = ChatRequests.read(body);
    Completion done =
        gateway.complete(Caller.of(ctx), Route.of(intent), request, priority, Optional.empty());

    Map<String, Object> response = new LinkedHashMap<>();
    response.put("content", done.result().content() == null ? "" : done.result().content());
    response.put("model_used", done.model());
    response.put("provider", done.provider());
    response.put("tokens_in", done.usage().inputTokens());
    response.put("tokens_out", done.usage().outputTokens());
    response.put("cost", BudgetReport.money(done.cost()));
    response.put("budget_remaining", budget.remaining(done.spentThisMonth()));
    if (!done.result().toolCalls().isEmpty()) {
      response.put("tool_calls", OpenAiShapes.toolCalls(done.result().toolCalls()));
    }
    ctx.json(response);
  }

  private void budget(Context ctx) throws SQLException {
    ctx.json(budget.budget());
  }

  private static Intent intent(JsonNode body) {
    JsonNode value = body.get("intent");
    if (value == null || value.isNull()) {
      throw ApiException.invalidField(
          "intent", "missing; use one of " + Intent.valid(false) + " (embed: /v1/embeddings)");
    }
    Intent intent =
        Intent.parse(value.asText())
            .orElseThrow(
                () ->
                    ApiException.invalidField(
                        "intent",
                        "'"
                            + value.asText()
                            + "' is not an intent; use one of "
                            + Intent.valid(false)));
    if (intent == Intent.EMBED) {
      throw ApiException.invalidField(
          "intent", "embed is not a chat intent; use POST /v1/embeddings or /api/memory/store");
    }
    return intent;
  }

  /** {@code priority} field, else {@code X-Jodo-Priority}, else repair for repair, else normal. */
  static Priority priority(Context ctx, JsonNode body, Intent intent) {
    String text =
        body.hasNonNull("priority") ? body.get("priority").asText() : ctx.header("X-Jodo-Priority");
    if (text == null || text.isBlank()) {
      return intent == Intent.REPAIR ? Priority.REPAIR : Priority.NORMAL;
    }
    return Priority.parse(text)
        .orElseThrow(
            () ->
                ApiException.invalidField(
                    "priority",
                    "'" + text + "' is not a priority; use one of " + Priority.valid()));
  }
}
