package dev.jodo.kernel.runs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.http.ApiException;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.platform.http.QueryParams;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Seed 001's HTTP API v1 for runs: {@code POST /v1/events} (202 with the run id), {@code GET
 * /v1/runs/{id}}, {@code GET /v1/runs}, and the admin's {@code POST /v1/runs/{id}/cancel}.
 */
public final class RunRoutes implements Routes {
  static final int MAX_TEXT_BYTES = 64 * 1024;
  static final int MAX_KEY = 200;
  private static final Set<String> FIELDS =
      Set.of("schema_version", "type", "conversation_key", "user_key", "text", "raw", "event_id");
  private static final Set<String> STATUSES = Set.of("queued", "running", "succeeded", "failed");

  private final RunsModule runs;
  private final ObjectMapper mapper;

  public RunRoutes(RunsModule runs, ObjectMapper mapper) {
    this.runs = runs;
    this.mapper = mapper;
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.post("/v1/events", this::accept, Scope.EVENTS);
    routes.get("/v1/runs/{id}", this::get, Scope.RUNS);
    routes.get("/v1/runs", this::list, Scope.RUNS);
    routes.post("/v1/runs/{id}/cancel", this::cancel, Scope.ADMIN);
  }

  private void accept(Context ctx) {
    JsonNode body = Json.readObject(ctx, mapper);
    Iterator<String> names = body.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        throw ApiException.invalidField(
            name,
            "unknown field; a normalized event has "
                + String.join(", ", FIELDS.stream().sorted().toList()));
      }
    }
    JsonNode version = body.path("schema_version");
    if (!version.isInt() || version.asInt() != 1) {
      throw ApiException.invalidField(
          "schema_version",
          (version.isMissingNode() ? "missing" : "'" + version.asText() + "' is not supported")
              + "; use 1");
    }
    // An unknown type is found by submit, from the same read of the workflow files.
    String type = requiredText(body, "type", "the workflow to run, e.g. \"message\"");
    String conversation =
        requiredText(body, "conversation_key", "say which conversation, e.g. \"cli:default\"");
    if (conversation.length() > MAX_KEY) {
      throw ApiException.invalidField(
          "conversation_key", "is longer than " + MAX_KEY + " characters; shorten it");
    }
    String text = requiredText(body, "text", "the message to process");
    if (text.getBytes(StandardCharsets.UTF_8).length > MAX_TEXT_BYTES) {
      throw ApiException.invalidField(
          "text", "is over 64 KiB; send at most " + MAX_TEXT_BYTES + " bytes");
    }
    String userKey = optionalText(body, "user_key");
    JsonNode raw = body.path("raw");
    if (!raw.isMissingNode() && !raw.isNull() && !raw.isObject()) {
      throw ApiException.invalidField("raw", "must be a JSON object, or left out");
    }
    Optional<String> key =
        Optional.ofNullable(ctx.header("Idempotency-Key"))
            .map(String::strip)
            .filter(k -> !k.isEmpty())
            .or(() -> Optional.ofNullable(optionalText(body, "event_id")));
    if (key.isPresent() && key.get().length() > MAX_KEY) {
      throw ApiException.invalidField(
          "Idempotency-Key", "is longer than " + MAX_KEY + " characters; shorten it");
    }
    RunEvent event =
        new RunEvent(1, type, conversation, userKey, text, raw.isObject() ? raw.toString() : null);
    String runId;
    try {
      runId = runs.submit(event, key);
    } catch (RunsModule.UnknownWorkflow e) {
      throw ApiException.invalidField("type", e.getMessage());
    }
    ctx.status(202).json(Map.of("run_id", runId));
  }

  private void get(Context ctx) {
    String id = ctx.pathParam("id");
    RunsModule.Run run =
        runs.get(id).orElseThrow(() -> ApiException.notFound("no run '" + id + "'"));
    ctx.json(view(run));
  }

  private void list(Context ctx) {
    Optional<String> conversation = Optional.ofNullable(ctx.queryParam("conversation_key"));
    Optional<String> status = Optional.ofNullable(ctx.queryParam("status"));
    if (status.isPresent() && !STATUSES.contains(status.get())) {
      throw ApiException.invalidField(
          "status",
          "'" + status.get() + "' is not a status; use queued, running, succeeded or failed");
    }
    int limit = QueryParams.integer(ctx, "limit", 20, 1, 100);
    ctx.json(
        Map.of(
            "runs", runs.list(conversation, status, limit).stream().map(RunRoutes::view).toList()));
  }

  private void cancel(Context ctx) {
    String id = ctx.pathParam("id");
    if (!runs.cancel(id)) {
      throw ApiException.notFound("no run '" + id + "'");
    }
    ctx.json(view(runs.get(id).orElseThrow()));
  }

  static Map<String, Object> view(RunsModule.Run run) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("run_id", run.runId());
    out.put("status", run.status());
    out.put("workflow", run.workflow());
    out.put("conversation_key", run.conversationKey());
    run.output().ifPresent(output -> out.put("output", output));
    run.error().ifPresent(error -> out.put("error", error));
    out.put("created_at", run.createdAt().toString());
    out.put("started_at", run.startedAt().map(Object::toString).orElse(null));
    out.put("finished_at", run.finishedAt().map(Object::toString).orElse(null));
    out.put(
        "steps",
        run.steps().stream()
            .map(
                step -> {
                  Map<String, Object> s = new LinkedHashMap<>();
                  s.put("name", step.name());
                  s.put("status", step.status());
                  s.put("duration_ms", step.durationMillis().orElse(null));
                  return s;
                })
            .toList());
    return out;
  }

  private static String requiredText(JsonNode body, String field, String hint) {
    JsonNode value = body.path(field);
    if (!value.isTextual() || value.asText().isBlank()) {
      throw ApiException.invalidField(
          field, (value.isMissingNode() ? "missing" : "must be a non-empty string") + "; " + hint);
    }
    return value.asText();
  }

  private static String optionalText(JsonNode body, String field) {
    JsonNode value = body.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw ApiException.invalidField(field, "must be a string");
    }
    if (value.asText().length() > MAX_KEY) {
      throw ApiException.invalidField(field, "is longer than " + MAX_KEY + " characters");
    }
    return value.asText();
  }
}
