package dev.jodo.kernel.runs;

/**
 * The kernel's workflows, called through DBOS's durable proxy. Each takes the event that started it
 * and returns the run's output.
 */
public interface Workflows {
  /** One agent turn: the conversation's session, one call to the gateway, the reply appended. */
  String message(RunEvent event);
}
