package dev.jodo.kernel.gateway.provider;

/**
 * Receives a streamed answer as it arrives. A listener that throws (the kernel's own client went
 * away) makes the provider client abort the upstream request and throw {@link
 * ProviderException.Aborted} carrying what had arrived so far.
 */
public interface StreamListener {
  void onText(String delta) throws Exception;

  /**
   * A piece of the tool call at {@code index}: id and name arrive once (first piece), the JSON
   * arguments in pieces.
   */
  void onToolCallDelta(int index, String id, String name, String argumentsDelta) throws Exception;
}
