package dev.jodo.kernel.tools;

import dev.jodo.kernel.gateway.provider.ToolCall;
import dev.jodo.kernel.gateway.provider.ToolSpec;
import java.util.List;

/** The tools an agent turn may offer the model, and the running of the calls it makes. */
public interface Tools {
  /** The tools on offer now, in a stable order. */
  List<ToolSpec> offered();

  /**
   * Runs one call the model made in the run {@code runId}. The tool's own failures (an unknown
   * tool, arguments its schema refuses, a non-zero exit, a timeout) come back as an error outcome
   * for the model to read; nothing here throws for them.
   */
  ToolOutcome call(String runId, ToolCall call);

  /** What a call gave the model: the tool's output, or an error it can act on. */
  record ToolOutcome(String content, boolean error) {}
}
