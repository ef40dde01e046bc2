package dev.jodo.kernel.runs;

import dev.dbos.transact.DBOS;
import dev.jodo.kernel.gateway.Completion;
import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.gateway.Intent;
import dev.jodo.kernel.gateway.Priority;
import dev.jodo.kernel.gateway.Route;
import dev.jodo.kernel.gateway.provider.ChatMessage;
import dev.jodo.kernel.gateway.provider.ChatRequest;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.auth.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent turn inside a workflow, once the conversation's earlier runs have finished: the
 * session, the model call, the reply appended. Every model call is a DBOS step, so a run resumed
 * after a crash replays finished steps from their checkpoints: the gateway is never asked (and
 * billed) twice for a step that completed, and the session gets the reply once.
 */
final class AgentTurn {
  private static final Logger log = LoggerFactory.getLogger(AgentTurn.class);

  /** How much of the session goes with each call. */
  static final int SESSION_WINDOW = 40;

  static final int MAX_TOKENS = 2048;

  private final Supplier<DBOS> dbos;
  private final Gateway gateway;
  private final Sessions sessions;
  private final Principal agent;
  private final Semaphore slots;
  private final Workspace workspace;
  private final ConversationGate gate;

  AgentTurn(
      Supplier<DBOS> dbos,
      Gateway gateway,
      Sessions sessions,
      String agent,
      Semaphore slots,
      Workspace workspace,
      ConversationGate gate) {
    this.workspace = workspace;
    this.gate = gate;
    this.dbos = dbos;
    this.gateway = gateway;
    this.sessions = sessions;
    this.agent = new Principal(agent, false, Set.of(Scope.THINK));
    this.slots = slots;
  }

  /**
   * Takes the turn for {@code event} in the run {@code runId} (the calling workflow's) and returns
   * the reply. Call it from a workflow, with the run's MDC entries set.
   */
  String take(String runId, RunEvent event) {
    try {
      awaitTurn(runId, event.conversationKey());
      log.info("run started");
      DBOS steps = dbos.get();
      String reply =
          steps.runStep(
              () -> {
                slots.acquireUninterruptibly();
                try {
                  List<ChatMessage> messages =
                      new ArrayList<>(sessions.load(event.conversationKey(), SESSION_WINDOW));
                  messages.add(ChatMessage.user(event.text()));
                  Completion done =
                      gateway.complete(
                          agent,
                          Route.of(Intent.CHAT),
                          new ChatRequest(
                              "",
                              workspace.systemPrompt(),
                              messages,
                              MAX_TOKENS,
                              0.7,
                              null,
                              null,
                              null),
                          Priority.NORMAL,
                          Optional.empty());
                  return done.result().content();
                } finally {
                  slots.release();
                }
              },
              "think");
      // Not a step: the append is idempotent (one row per run and position), so a run resumed
      // after a crash simply appends again, and a checkpoint would cost two more round trips.
      sessions.append(runId, event.conversationKey(), event.text(), reply);
      return reply;
    } finally {
      gate.finished(event.conversationKey());
    }
  }

  /**
   * Waits until the earlier runs of the conversation have finished. Not a step: it changes nothing,
   * and a run resumed after a crash must wait again for whatever is still unfinished.
   */
  private void awaitTurn(String runId, String conversationKey) {
    try {
      gate.awaitTurn(runId, conversationKey);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("stopped while waiting for the conversation's turn", e);
    }
  }
}
