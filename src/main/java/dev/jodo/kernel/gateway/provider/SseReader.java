package dev.jodo.kernel.gateway.provider;

/**
 * Assembles server-sent events from lines (the WHATWG rules OpenAI and Anthropic follow): {@code
 * event:} names the event, {@code data:} lines are joined with newlines, a blank line dispatches,
 * lines starting with {@code :} are comments (keep-alives).
 */
final class SseReader implements ProviderHttp.LineHandler {

  interface EventHandler {
    /** Returns true once the final event of the stream arrived. */
    boolean onEvent(String event, String data)
        throws ProviderException, StreamAccumulator.ListenerFailed;
  }

  private final EventHandler handler;
  private String event = "";
  private StringBuilder data;

  SseReader(EventHandler handler) {
    this.handler = handler;
  }

  @Override
  public boolean onLine(String line) throws ProviderException, StreamAccumulator.ListenerFailed {
    if (line.isEmpty()) {
      return dispatch();
    }
    if (line.startsWith(":")) {
      return false;
    }
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "event" -> event = value;
      case "data" -> {
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
      }
      default -> {
        // id:, retry: and unknown fields mean nothing to a one-shot provider stream.
      }
    }
    return false;
  }

  private boolean dispatch() throws ProviderException, StreamAccumulator.ListenerFailed {
    if (data == null) {
      event = "";
      return false;
    }
    String name = event.isEmpty() ? "message" : event;
    String payload = data.toString();
    event = "";
    data = null;
    return handler.onEvent(name, payload);
  }
}
