package dev.jodo.kernel.memory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.memory.index.MemoryIndex;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.http.ApiException;
import dev.jodo.kernel.platform.http.Caller;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Seed 000's {@code /api/memory/store} and {@code /search}, plus get, delete, forget, export. */
final class MemoryRoutes implements Routes {
  private final MemoryService memory;
  private final Reindexer reindexer;
  private final ObjectMapper mapper;

  MemoryRoutes(MemoryService memory, Reindexer reindexer, ObjectMapper mapper) {
    this.memory = memory;
    this.reindexer = reindexer;
    this.mapper = mapper;
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.post("/api/memory/store", this::store, Scope.MEMORY);
    routes.post("/api/memory/search", this::search, Scope.MEMORY);
    routes.post("/api/memory/forget", this::forget, Scope.MEMORY);
    routes.post("/api/memory/reindex", this::reindex, Scope.ADMIN);
    routes.get("/api/memory/export", this::export, Scope.MEMORY);
    routes.get("/api/memory/{id}", this::get, Scope.MEMORY);
    routes.delete("/api/memory/{id}", this::delete, Scope.MEMORY);
  }

  private void store(Context ctx) {
    JsonNode body = Json.readObject(ctx, mapper);
    MemoryService.Stored stored =
        memory.store(
            Caller.of(ctx),
            optionalText(body, "namespace"),
            text(body, "content"),
            strings(body, "tags"),
            optionalText(body, "source").orElse(null));
    Map<String, Object> response = new LinkedHashMap<>();
    response.put("id", stored.id());
    response.put("embedding_dimensions", stored.dimensions());
    response.put("cost", money(stored.cost()));
    response.put("stored", true);
    ctx.json(response);
  }

  private void search(Context ctx) {
    JsonNode body = Json.readObject(ctx, mapper);
    int limit = 5;
    if (body.hasNonNull("limit")) {
      if (!body.get("limit").isIntegralNumber()) {
        throw ApiException.invalidField("limit", "expected a whole number from 1 to 100");
      }
      limit = body.get("limit").asInt();
    }
    Optional<Double> minSimilarity = Optional.empty();
    if (body.hasNonNull("min_similarity")) {
      if (!body.get("min_similarity").isNumber()) {
        throw ApiException.invalidField("min_similarity", "expected a number from -1 to 1");
      }
      minSimilarity = Optional.of(body.get("min_similarity").asDouble());
    }
    MemoryIndex.Mode mode = mode(optionalText(body, "mode").orElse("hybrid"));
    MemoryService.Found found =
        memory.search(
            Caller.of(ctx),
            optionalText(body, "namespace"),
            body.hasNonNull("query") ? text(body, "query") : null,
            limit,
            strings(body, "tags"),
            minSimilarity,
            optionalText(body, "source"),
            mode);
    List<Map<String, Object>> results = new ArrayList<>();
    for (MemoryIndex.Hit hit : found.hits()) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("id", hit.id());
      result.put("content", hit.content());
      result.put("similarity", Math.round(hit.similarity() * 10_000) / 10_000.0);
      result.put("tags", hit.tags());
      result.put("source", hit.source());
      result.put("created_at", hit.createdAt().toString());
      results.add(result);
    }
    Map<String, Object> response = new LinkedHashMap<>();
    response.put("results", results);
    response.put("cost", money(found.cost()));
    ctx.json(response);
  }

  private void get(Context ctx) {
    ctx.json(view(memory.get(Caller.of(ctx), ctx.pathParam("id"))));
  }

  private void delete(Context ctx) {
    memory.delete(Caller.of(ctx), ctx.pathParam("id"));
    ctx.json(Map.of("id", ctx.pathParam("id"), "deleted", true));
  }

  private void forget(Context ctx) {
    JsonNode body = Json.readObject(ctx, mapper);
    int forgotten =
        memory.forget(
            Caller.of(ctx),
            optionalText(body, "namespace"),
            strings(body, "tags"),
            optionalText(body, "source"),
            instant(body, "from"),
            instant(body, "to"));
    ctx.json(Map.of("forgotten", forgotten));
  }

  private void export(Context ctx) throws IOException {
    ctx.status(200);
    ctx.res().setContentType("application/x-ndjson; charset=utf-8");
    OutputStream out = ctx.res().getOutputStream();
    memory.export(
        Caller.of(ctx),
        Optional.ofNullable(ctx.queryParam("namespace")),
        record -> {
          out.write(mapper.writeValueAsBytes(view(record)));
          out.write('\n');
        });
    out.flush();
  }

  private void reindex(Context ctx) throws Exception {
    boolean rebuild = "true".equals(ctx.queryParam("rebuild"));
    ctx.status(200);
    ctx.res().setContentType("application/x-ndjson; charset=utf-8");
    OutputStream out = ctx.res().getOutputStream();
    Reindexer.Result result =
        reindexer.run(
            rebuild,
            line -> {
              try {
                out.write(mapper.writeValueAsBytes(Map.of("progress", line)));
                out.write('\n');
                out.flush();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    out.write(
        mapper.writeValueAsBytes(
            Map.of(
                "done",
                true,
                "reembedded",
                result.reembedded(),
                "indexed_up_to",
                result.indexedUpTo())));
    out.write('\n');
    out.flush();
  }

  private Map<String, Object> view(MemoryRecord record) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("id", record.id());
    view.put("namespace", record.namespace());
    view.put("content", record.content());
    view.put("tags", record.tags());
    view.put("source", record.source());
    view.put("created_at", record.createdAt().toString());
    view.put("embedding_model", record.model());
    view.put("embedding_dimensions", record.embedding().length);
    return view;
  }

  private static MemoryIndex.Mode mode(String text) {
    try {
      return MemoryIndex.Mode.valueOf(text.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw ApiException.invalidField("mode", "'" + text + "' is not hybrid, vector or text");
    }
  }

  private static String text(JsonNode body, String field) {
    JsonNode value = body.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw ApiException.invalidField(field, "expected a string");
    }
    return value.asText();
  }

  private static Optional<String> optionalText(JsonNode body, String field) {
    return Optional.ofNullable(text(body, field));
  }

  private static List<String> strings(JsonNode body, String field) {
    JsonNode value = body.get(field);
    if (value == null || value.isNull()) {
      return List.of();
    }
    if (!value.isArray()) {
      throw ApiException.invalidField(field, "expected a list of strings");
    }
    List<String> result = new ArrayList<>();
    for (int i = 0; i < value.size(); i++) {
      if (!value.get(i).isTextual()) {
        throw ApiException.invalidField(field + "[" + i + "]", "expected a string");
      }
      result.add(value.get(i).asText());
    }
    return result;
  }

  private static Optional<Instant> instant(JsonNode body, String field) {
    Optional<String> text = optionalText(body, field);
    try {
      return text.map(Instant::parse);
    } catch (DateTimeParseException e) {
      throw ApiException.invalidField(
          field, "'" + text.get() + "' is not an ISO-8601 instant such as 2026-02-18T12:00:00Z");
    }
  }

  private static BigDecimal money(BigDecimal amount) {
    BigDecimal stripped = amount.stripTrailingZeros();
    return stripped.scale() < 0 ? stripped.setScale(0) : stripped;
  }
}
