package dev.jodo.kernel.gateway.provider;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Builds a streamed answer from its deltas while handing each delta to the listener, so that an
 * aborted stream can still report what had arrived. Tool calls are keyed by their index among the
 * answer's tool calls (not by a provider's content-block index).
 */
final class StreamAccumulator {

  /** The listener threw: the kernel's own client went away. Carries the listener's exception. */
  static final class ListenerFailed extends Exception {
    private static final long serialVersionUID = 1L;

    ListenerFailed(Exception cause) {
      super(cause);
    }
  }

  private static final class PendingCall {
    String id;
    String name;
    final StringBuilder arguments = new StringBuilder();
  }

  private final StreamListener listener;
  private final StringBuilder text = new StringBuilder();
  private final Map<Integer, PendingCall> calls = new TreeMap<>();
  private String model;
  private Integer inputTokens;
  private Integer outputTokens;
  private FinishReason finishReason;

  StreamAccumulator(StreamListener listener, String requestedModel) {
    this.listener = listener;
    this.model = requestedModel;
  }

  void text(String delta) throws ListenerFailed {
    if (delta == null || delta.isEmpty()) {
      return;
    }
    text.append(delta);
    try {
      listener.onText(delta);
    } catch (Exception e) {
      throw new ListenerFailed(e);
    }
  }

  /** A piece of tool call {@code index}; {@code id} and {@code name} are null after the first. */
  void toolCall(int index, String id, String name, String argumentsDelta) throws ListenerFailed {
    PendingCall call = calls.computeIfAbsent(index, i -> new PendingCall());
    if (id != null && !id.isEmpty()) {
      call.id = id;
    }
    if (name != null && !name.isEmpty()) {
      call.name = name;
    }
    String arguments = argumentsDelta == null ? "" : argumentsDelta;
    call.arguments.append(arguments);
    try {
      listener.onToolCallDelta(index, id, name, arguments);
    } catch (Exception e) {
      throw new ListenerFailed(e);
    }
  }

  int toolCallCount() {
    return calls.size();
  }

  void model(String answeredModel) {
    if (answeredModel != null && !answeredModel.isEmpty()) {
      model = answeredModel;
    }
  }

  void inputTokens(int tokens) {
    inputTokens = tokens;
  }

  void outputTokens(int tokens) {
    outputTokens = tokens;
  }

  void finishReason(FinishReason reason) {
    finishReason = reason;
  }

  /** The answer so far; usage only when the provider reported both counts. */
  ChatResult result() {
    List<ToolCall> toolCalls = new ArrayList<>();
    for (PendingCall call : calls.values()) {
      String arguments = call.arguments.isEmpty() ? "{}" : call.arguments.toString();
      toolCalls.add(new ToolCall(call.id, call.name, arguments));
    }
    FinishReason reason =
        finishReason != null
            ? finishReason
            : toolCalls.isEmpty() ? FinishReason.STOP : FinishReason.TOOL_CALLS;
    Optional<Usage> usage =
        inputTokens != null && outputTokens != null
            ? Optional.of(new Usage(inputTokens, outputTokens))
            : Optional.empty();
    return new ChatResult(text.toString(), toolCalls, reason, usage, model);
  }
}
