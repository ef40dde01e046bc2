package dev.jodo.kernel.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dbos.transact.DBOS;
import dev.jodo.kernel.gateway.Completion;
import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.gateway.Intent;
import dev.jodo.kernel.gateway.Priority;
import dev.jodo.kernel.gateway.Route;
import dev.jodo.kernel.gateway.provider.ChatMessage;
import dev.jodo.kernel.gateway.provider.ChatRequest;
import dev.jodo.kernel.gateway.provider.ToolCall;
import dev.jodo.kernel.gateway.provider.ToolSpec;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.config.RunsConfig;
import dev.jodo.kernel.platform.http.Json;
import dev.jodo.kernel.tools.Tools;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent turn inside a workflow, once the conversation's earlier runs have finished.
 *
 * <p>The context is the system prompt ({@link Workspace}: overrides, AGENTS.md, skills), the
 * memories recalled for the message, the summary of the conversation's older part, and its recent
 * messages. Then the tool-calling loop: the model is asked (through the gateway, so budgets and
 * quotas apply); each tool it calls is run and its result fed back; until it answers, or has been
 * asked {@code max_turns} times, which fails the run. The message and the answer are appended to
 * the session; a session past {@code compact_after_tokens} first has its older part summarized.
 *
 * <p>Every model call and every tool call is a DBOS step, so a run resumed after a crash replays
 * them from their checkpoints: nothing is asked, billed or run twice once it completed. What is not
 * a step (the session read, the recall, the append) gives the same result when replayed.
 */
final class AgentTurn {
  private static final Logger log = LoggerFactory.getLogger(AgentTurn.class);

  static final int MAX_TOKENS = 2048;

  /** How many of the newest messages a compaction keeps as they are. */
  static final int KEEP_AFTER_COMPACTION = 6;

  /** How many memories are recalled for a message. */
  static final int RECALLED = 5;

  static final String COMPACTION_PROMPT =
      "Summarize this conversation between a person and their assistant for the assistant's own"
          + " later use. Keep every fact, name, number, decision, promise and open question;"
          + " drop greetings and repetition. Write plain prose, at most 300 words.";

  /** What one model call gave: an answer, or tools to call first. */
  record Thought(String content, List<ToolCall> toolCalls) {}

  /** The agent's long-term memory, as turns and workflow steps use it. */
  interface Memory {
    /** The texts of the memories that best match {@code text}. */
    List<String> recall(Principal agent, String text, int limit);

    void remember(Principal agent, String content, List<String> tags);
  }

  private final Supplier<DBOS> dbos;
  private final Gateway gateway;
  private final Sessions sessions;
  private final Principal agent;
  private final Semaphore slots;
  private final Workspace workspace;
  private final ConversationGate gate;
  private final Tools tools;
  private final RunsConfig limits;
  private final CompletableFuture<Memory> memory;
  private final ObjectMapper json = Json.newMapper();

  AgentTurn(
      Supplier<DBOS> dbos,
      Gateway gateway,
      Sessions sessions,
      String agent,
      Semaphore slots,
      Workspace workspace,
      ConversationGate gate,
      Tools tools,
      RunsConfig limits,
      CompletableFuture<Memory> memory) {
    this.dbos = dbos;
    this.gateway = gateway;
    this.sessions = sessions;
    this.agent = new Principal(agent, false, Set.of(Scope.THINK, Scope.MEMORY));
    this.slots = slots;
    this.workspace = workspace;
    this.gate = gate;
    this.tools = tools;
    this.limits = limits;
    this.memory = memory;
  }

  /**
   * Takes the turn for {@code event} in the run {@code runId} (the calling workflow's) and returns
   * the answer. Call it from a workflow, with the run's MDC entries set.
   */
  String take(String runId, RunEvent event) {
    try {
      awaitTurn(runId, event.conversationKey());
      log.info("run started");
      return answer(runId, event.conversationKey(), event.text(), 0, true);
    } finally {
      gate.finished(event.conversationKey());
    }
  }

  /**
   * The agent's answer to {@code text} in the conversation, with its session, memories and tools;
   * the message and the answer are appended to the session at positions {@code seq} and {@code seq
   * + 1} of the run, and with {@code finish} the run is marked finished in the same statement. The
   * caller holds the conversation's turn.
   */
  String answer(String runId, String conversation, String text, int seq, boolean finish) {
    DBOS steps = dbos.get();
    Sessions.Session session = sessions.load(conversation, runId, seq);
    Optional<String> summary = session.summary();
    List<Sessions.Entry> history = session.messages();
    if (estimatedTokens(summary, history) > limits.compactAfterTokens()
        && history.size() > KEEP_AFTER_COMPACTION) {
      List<Sessions.Entry> older = history.subList(0, history.size() - KEEP_AFTER_COMPACTION);
      Optional<String> before = summary;
      String compacted = steps.runStep(() -> summarize(before, older), "compact");
      sessions.compact(runId, conversation, compacted, older.get(older.size() - 1).id());
      log.info("session compacted: {} messages summarized", older.size());
      summary = Optional.of(compacted);
      history = history.subList(older.size(), history.size());
    }

    String system = systemPrompt(summary, recall(text, RECALLED));
    List<ToolSpec> offered = tools.offered();
    List<ChatMessage> messages = new ArrayList<>();
    for (Sessions.Entry entry : history) {
      messages.add(
          entry.role().equals("assistant")
              ? ChatMessage.assistant(entry.content())
              : ChatMessage.user(entry.content()));
    }
    messages.add(ChatMessage.user(text));

    String answer;
    for (int call = 1; ; call++) {
      if (call > limits.maxTurns()) {
        throw new IllegalStateException(
            "the agent asked for tools "
                + limits.maxTurns()
                + " times without answering (runs.max_turns is "
                + limits.maxTurns()
                + "); raise it in config.yaml if its work needs more steps");
      }
      List<ChatMessage> sofar = List.copyOf(messages);
      Thought thought = read(steps.runStep(() -> think(system, sofar, offered), "think"));
      if (thought.toolCalls().isEmpty()) {
        answer = thought.content() == null ? "" : thought.content();
        break;
      }
      messages.add(new ChatMessage("assistant", thought.content(), thought.toolCalls(), null));
      for (ToolCall toolCall : thought.toolCalls()) {
        messages.add(ChatMessage.tool(toolCall.id(), useTool(runId, toolCall)));
      }
    }
    // Not a step: the append is idempotent (one row per run and position), so a run resumed
    // after a crash simply appends again, and a checkpoint would cost two more round trips.
    sessions.append(runId, conversation, text, answer, seq, finish);
    return answer;
  }

  /** One model call without session or tools (a workflow's {@code think} step): its answer. */
  String ask(String prompt) {
    String system = workspace.systemPrompt();
    List<ChatMessage> messages = List.of(ChatMessage.user(prompt));
    Thought thought = read(dbos.get().runStep(() -> think(system, messages, List.of()), "think"));
    return thought.content() == null ? "" : thought.content();
  }

  /** One tool call as a step; what the model reads back (an error says so). */
  String useTool(String runId, ToolCall call) {
    return dbos.get().runStep(() -> use(runId, call), "tool:" + call.name());
  }

  /** Stores a memory in the agent's namespace, as a step (once per run, however replayed). */
  void remember(String content, List<String> tags) {
    dbos.get()
        .runStep(
            () -> {
              memory().remember(agent, content, tags);
              return "stored";
            },
            "remember");
  }

  /** The memories that best match {@code text}; none when recall fails (the turn goes on). */
  List<String> recall(String text, int limit) {
    if (text == null || text.isBlank()) {
      return List.of();
    }
    try {
      return memory().recall(agent, text, limit);
    } catch (RuntimeException e) {
      log.warn("no memories recalled: {}", e.getMessage());
      return List.of();
    }
  }

  /** Runs {@code body} as the step {@code name}: once per run, however often it is replayed. */
  void once(String name, Runnable body) {
    dbos.get()
        .runStep(
            () -> {
              body.run();
              return "done";
            },
            name);
  }

  /** Marks the run finished for its conversation and lets the next run of it start. */
  void finish(String runId) {
    gate.markFinished(runId);
  }

  /** Wakes the conversation's waiting runs on this kernel (after a run finished or failed). */
  void released(String conversation) {
    gate.finished(conversation);
  }

  private Memory memory() {
    try {
      return memory.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("stopped while waiting for the memory module", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("the memory module is not ready: " + e, e);
    }
  }

  /** One model call, in one of this kernel's run slots; its result as JSON (the checkpoint). */
  private String think(String system, List<ChatMessage> messages, List<ToolSpec> offered) {
    slots.acquireUninterruptibly();
    try {
      Completion done =
          gateway.complete(
              agent,
              Route.of(Intent.CHAT),
              new ChatRequest("", system, messages, MAX_TOKENS, 0.7, offered, null, null),
              Priority.NORMAL,
              Optional.empty());
      return json.writeValueAsString(
          new Thought(done.result().content(), done.result().toolCalls()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot checkpoint a model call", e);
    } finally {
      slots.release();
    }
  }

  private Thought read(String checkpoint) {
    try {
      return json.readValue(checkpoint, Thought.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot read the checkpoint of a model call", e);
    }
  }

  /** One tool call; what the model reads back (an error says so, so the model can react). */
  private String use(String runId, ToolCall call) {
    Tools.ToolOutcome outcome = tools.call(runId, call);
    log.info("tool {} {}", call.name(), outcome.error() ? "failed" : "answered");
    return outcome.error() ? "error: " + outcome.content() : outcome.content();
  }

  /** The older part of the session, and the summary before it, summarized (intent quick). */
  private String summarize(Optional<String> before, List<Sessions.Entry> older) {
    StringBuilder text = new StringBuilder();
    before.ifPresent(s -> text.append("Summary of what came before:\n").append(s).append("\n\n"));
    for (Sessions.Entry entry : older) {
      text.append(entry.role()).append(": ").append(entry.content()).append("\n\n");
    }
    slots.acquireUninterruptibly();
    try {
      return gateway
          .complete(
              agent,
              Route.of(Intent.QUICK),
              new ChatRequest(
                  "",
                  COMPACTION_PROMPT,
                  List.of(ChatMessage.user(text.toString())),
                  1024,
                  0.2,
                  null,
                  null,
                  null),
              Priority.NORMAL,
              Optional.empty())
          .result()
          .content();
    } finally {
      slots.release();
    }
  }

  private String systemPrompt(Optional<String> summary, List<String> memories) {
    StringBuilder system = new StringBuilder(workspace.systemPrompt());
    if (!memories.isEmpty()) {
      system.append("\n\n# Memories\n\nWhat you remember that may bear on this message:\n");
      memories.forEach(memory -> system.append("\n- ").append(memory));
    }
    summary.ifPresent(s -> system.append("\n\n# Earlier in this conversation\n\n").append(s));
    return system.toString();
  }

  /** About four characters a token: enough to tell when a session has grown large. */
  static int estimatedTokens(Optional<String> summary, List<Sessions.Entry> messages) {
    long chars = summary.map(String::length).orElse(0);
    for (Sessions.Entry entry : messages) {
      chars += entry.content().length() + 16;
    }
    return (int) Math.min(Integer.MAX_VALUE, chars / 4);
  }

  /**
   * Waits until the earlier runs of the conversation have finished. Not a step: it changes nothing,
   * and a run resumed after a crash must wait again for whatever is still unfinished.
   */
  void awaitTurn(String runId, String conversationKey) {
    try {
      gate.awaitTurn(runId, conversationKey);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("stopped while waiting for the conversation's turn", e);
    }
  }
}
