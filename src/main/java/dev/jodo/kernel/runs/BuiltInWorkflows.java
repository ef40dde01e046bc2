package dev.jodo.kernel.runs;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.workflow.Workflow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The kernel's built-in workflows. Each sets the run's log context ({@code run_id}, {@code
 * workflow_name}, {@code conversation_key}) for everything it does.
 */
final class BuiltInWorkflows implements Workflows {
  private static final Logger log = LoggerFactory.getLogger(BuiltInWorkflows.class);

  private final AgentTurn turn;

  BuiltInWorkflows(AgentTurn turn) {
    this.turn = turn;
  }

  @Override
  @Workflow(name = "message")
  @SuppressWarnings("try") // the MDC entries are held for the body, unreferenced
  public String message(RunEvent event) {
    String runId = DBOS.workflowId();
    try (MDC.MDCCloseable a = MDC.putCloseable("run_id", runId);
        MDC.MDCCloseable b = MDC.putCloseable("workflow_name", "message");
        MDC.MDCCloseable c = MDC.putCloseable("conversation_key", event.conversationKey())) {
      String reply = turn.take(runId, event);
      log.info("run succeeded");
      return reply;
    }
  }
}
