package dev.jodo.kernel.runs;

import java.time.Instant;

/**
 * The kernel's workflows, called through DBOS's durable proxy. Each takes the event that started it
 * and returns the run's output.
 */
public interface Workflows {
  /** One agent turn: the conversation's session, the model and its tools, the reply appended. */
  String message(RunEvent event);

  /** A Telegram message: the same turn, in the chat's session, and the reply sent to the chat. */
  String telegramMessage(RunEvent event);

  /**
   * A declarative workflow of the workspace, run from {@code source}: the file's text when the
   * event was accepted, so a run resumed after a crash replays the steps it started with.
   */
  String workflow(String name, String source, RunEvent event);

  /** Fired by DBOS's scheduler for a workflow file's {@code schedule}; starts its run once. */
  String scheduled(Instant at, Object workflowName);
}
