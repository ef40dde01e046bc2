package dev.jodo.kernel.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.gateway.provider.ChatRequest;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.http.ApiException;
import dev.jodo.kernel.platform.http.Caller;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * OpenAI-compatible {@code /v1/chat/completions} (plain and streamed), {@code /v1/embeddings} and
 * {@code /v1/models}: an OpenAI SDK with {@code base_url = http://kernel/v1} and a kernel token as
 * its API key gets the gateway's routing, budgets and quotas. {@code model} is a configured model
 * name, or {@code jodo:<intent>}; an {@code X-Jodo-Intent} header routes by intent whatever the
 * model says.
 */
final class OpenAiRoutes implements Routes {
  static final String ALIAS_PREFIX = "jodo:";

  private final Gateway gateway;
  private final Map<String, ProviderConfig> providers;
  private final ObjectMapper mapper;
  private final Clock clock;

  OpenAiRoutes(
      Gateway gateway, Map<String, ProviderConfig> providers, ObjectMapper mapper, Clock clock) {
    this.gateway = gateway;
    this.providers = providers;
    this.mapper = mapper;
    this.clock = clock;
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.post("/v1/chat/completions", this::chat, Scope.THINK);
    routes.post("/v1/embeddings", this::embeddings, Scope.THINK);
    routes.get("/v1/models", this::models, Scope.THINK);
  }

  private void chat(Context ctx) throws IOException {
    JsonNode body = Json.readObject(ctx, mapper);
    Route route = route(ctx, body, Intent.CHAT);
    if (route.intent() == Intent.EMBED) {
      throw ApiException.invalidField("model", "embed is not a chat intent; use /v1/embeddings");
    }
    Priority priority = ThinkRoutes.priority(ctx, body, route.intent());
    ChatRequest request = ChatRequests.read(body);
    long created = clock.instant().getEpochSecond();
    boolean stream = body.path("stream").asBoolean(false);
    if (!stream) {
      Completion done =
          gateway.complete(Caller.of(ctx), route, request, priority, Optional.empty());
      ctx.json(OpenAiShapes.completion("chatcmpl-" + done.usageId(), created, done));
      return;
    }
    String id = "chatcmpl-" + Long.toHexString(System.nanoTime());
    SseWriter writer = new SseWriter(ctx, mapper, id, created);
    Completion done;
    try {
      done = gateway.complete(Caller.of(ctx), route, request, priority, Optional.of(writer));
    } catch (ApiException e) {
      if (!writer.started()) {
        throw e; // nothing sent yet: a plain JSON error with its status
      }
      if (e.status() != 499) {
        writer.fail(e.code(), e.getMessage());
      }
      return;
    }
    writer.finish(done);
  }

  private void embeddings(Context ctx) {
    JsonNode body = Json.readObject(ctx, mapper);
    Route route = route(ctx, body, Intent.EMBED);
    if (route.model().isEmpty() && route.intent() != Intent.EMBED) {
      throw ApiException.invalidField("model", "use an embedding model or jodo:embed");
    }
    List<String> inputs = inputs(body.get("input"));
    String format = body.path("encoding_format").asText("float");
    if (!format.equals("float") && !format.equals("base64")) {
      throw ApiException.invalidField("encoding_format", "'" + format + "' is not float or base64");
    }
    Embedding done =
        gateway.embed(
            Caller.of(ctx), route, inputs, ThinkRoutes.priority(ctx, body, route.intent()));
    List<Map<String, Object>> data = new ArrayList<>();
    for (int i = 0; i < done.vectors().size(); i++) {
      Map<String, Object> item = new LinkedHashMap<>();
      item.put("object", "embedding");
      item.put("index", i);
      item.put(
          "embedding",
          format.equals("base64") ? base64(done.vectors().get(i)) : done.vectors().get(i));
      data.add(item);
    }
    Map<String, Object> usage = new LinkedHashMap<>();
    usage.put("prompt_tokens", done.inputTokens());
    usage.put("total_tokens", done.inputTokens());
    Map<String, Object> response = new LinkedHashMap<>();
    response.put("object", "list");
    response.put("data", data);
    response.put("model", done.model());
    response.put("usage", usage);
    ctx.json(response);
  }

  private void models(Context ctx) {
    List<Map<String, Object>> data = new ArrayList<>();
    for (ProviderConfig provider : providers.values()) {
      if (!provider.enabled()) {
        continue;
      }
      for (String model : provider.models().keySet()) {
        data.add(model(model, provider.name()));
      }
    }
    for (Intent intent : Intent.values()) {
      data.add(model(ALIAS_PREFIX + intent.wire(), "jodo"));
    }
    ctx.json(Map.of("object", "list", "data", data));
  }

  private static Map<String, Object> model(String id, String owner) {
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("id", id);
    model.put("object", "model");
    model.put("created", 0);
    model.put("owned_by", owner);
    return model;
  }

  /** X-Jodo-Intent wins; then a jodo:<intent> alias; then the concrete model's provider. */
  private static Route route(Context ctx, JsonNode body, Intent fallbackIntent) {
    String header = ctx.header("X-Jodo-Intent");
    if (header != null && !header.isBlank()) {
      return Route.of(parseIntent(header, "X-Jodo-Intent"));
    }
    JsonNode model = body.get("model");
    if (model == null || !model.isTextual() || model.asText().isBlank()) {
      throw ApiException.invalidField(
          "model", "missing; name a configured model (GET /v1/models) or jodo:<intent>");
    }
    String name = model.asText();
    if (name.startsWith(ALIAS_PREFIX)) {
      return Route.of(parseIntent(name.substring(ALIAS_PREFIX.length()), "model"));
    }
    return Route.model(name, fallbackIntent);
  }

  private static Intent parseIntent(String text, String field) {
    return Intent.parse(text)
        .orElseThrow(
            () ->
                ApiException.invalidField(
                    field, "'" + text + "' is not an intent; use one of " + Intent.valid(true)));
  }

  private static List<String> inputs(JsonNode input) {
    if (input == null || input.isNull()) {
      throw ApiException.invalidField("input", "missing; send a string or a list of strings");
    }
    if (input.isTextual()) {
      return List.of(input.asText());
    }
    if (input.isArray() && !input.isEmpty()) {
      List<String> inputs = new ArrayList<>();
      for (int i = 0; i < input.size(); i++) {
        if (!input.get(i).isTextual()) {
          throw ApiException.invalidField(
              "input[" + i + "]", "expected a string (token arrays are not supported)");
        }
        inputs.add(input.get(i).asText());
      }
      return inputs;
    }
    throw ApiException.invalidField("input", "expected a string or a non-empty list of strings");
  }

  private static String base64(float[] vector) {
    ByteBuffer buffer = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : vector) {
      buffer.putFloat(value);
    }
    return Base64.getEncoder().encodeToString(buffer.array());
  }
}
