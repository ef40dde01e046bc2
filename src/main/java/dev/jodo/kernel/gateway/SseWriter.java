package dev.jodo.kernel.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.gateway.provider.StreamListener;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an OpenAI chat stream to the client as server-sent events. Nothing is sent before the
 * first delta, so a failure before the provider starts answering is still a plain JSON error and
 * the gateway may still fall back. A write that fails (the client left) throws, which makes the
 * provider client abort the upstream request.
 */
final class SseWriter implements StreamListener {
  private final Context ctx;
  private final ObjectMapper mapper;
  private final String id;
  private final long created;
  private String model = "";
  private OutputStream out;

  SseWriter(Context ctx, ObjectMapper mapper, String id, long created) {
    this.ctx = ctx;
    this.mapper = mapper;
    this.id = id;
    this.created = created;
  }

  boolean started() {
    return out != null;
  }

  /** The model name chunks carry; set before the first delta when known. */
  void model(String model) {
    this.model = model;
  }

  @Override
  public void onText(String delta) throws IOException {
    start();
    send(OpenAiShapes.chunk(id, created, model, Map.of("content", delta), null));
  }

  @Override
  public void onToolCallDelta(int index, String callId, String name, String argumentsDelta)
      throws IOException {
    start();
    Map<String, Object> function = new LinkedHashMap<>();
    if (name != null) {
      function.put("name", name);
    }
    function.put("arguments", argumentsDelta == null ? "" : argumentsDelta);
    Map<String, Object> call = new LinkedHashMap<>();
    call.put("index", index);
    if (callId != null) {
      call.put("id", callId);
      call.put("type", "function");
    }
    call.put("function", function);
    send(OpenAiShapes.chunk(id, created, model, Map.of("tool_calls", List.of(call)), null));
  }

  /** The final chunks: finish reason, usage, {@code [DONE]}. */
  void finish(Completion done) throws IOException {
    model = done.model();
    start();
    send(OpenAiShapes.chunk(id, created, model, Map.of(), done.result().finishReason().wire()));
    send(OpenAiShapes.usageChunk(id, created, model, done.usage()));
    done();
  }

  /** An error after the stream started: OpenAI's in-stream error object, then the end. */
  void fail(String code, String message) throws IOException {
    send(Map.of("error", Map.of("code", code, "message", message, "type", "server_error")));
    done();
  }

  private void start() throws IOException {
    if (out != null) {
      return;
    }
    ctx.status(200);
    ctx.res().setContentType("text/event-stream; charset=utf-8");
    ctx.res().setHeader("Cache-Control", "no-cache");
    ctx.res().setHeader("X-Accel-Buffering", "no");
    out = ctx.res().getOutputStream();
    Map<String, Object> role = new LinkedHashMap<>();
    role.put("role", "assistant");
    role.put("content", "");
    send(OpenAiShapes.chunk(id, created, model, role, null));
  }

  private void send(Object event) throws IOException {
    byte[] json = mapper.writeValueAsBytes(event);
    out.write("data: ".getBytes(StandardCharsets.US_ASCII));
    out.write(json);
    out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private void done() throws IOException {
    out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }
}
