package dev.jodo.kernel.runs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dbos.transact.DBOS;
import dev.dbos.transact.workflow.Workflow;
import dev.jodo.kernel.gateway.provider.ToolCall;
import dev.jodo.kernel.platform.http.Json;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The kernel's workflows: the built-in {@code message} turn, the workspace's declarative workflows
 * (docs/workflows.md), and the entry DBOS's scheduler fires for their schedules. Each sets the
 * run's log context ({@code run_id}, {@code workflow_name}, {@code conversation_key}).
 */
final class BuiltInWorkflows implements Workflows {
  private static final Logger log = LoggerFactory.getLogger(BuiltInWorkflows.class);

  /** How deep {@code call} steps may nest (a workflow calling itself stops here). */
  static final int MAX_CALL_DEPTH = 5;

  private final AgentTurn turn;
  private final WorkflowFiles files;
  private final BiFunction<RunEvent, String, String> submit;
  private final CompletableFuture<Optional<RunsModule.Replies>> replies;
  private final ObjectMapper json = Json.newMapper();

  /**
   * {@code submit} accepts an event with an idempotency key, as {@code POST /v1/events} does, and
   * gives its run id.
   */
  BuiltInWorkflows(
      AgentTurn turn,
      WorkflowFiles files,
      BiFunction<RunEvent, String, String> submit,
      CompletableFuture<Optional<RunsModule.Replies>> replies) {
    this.replies = replies;
    this.turn = turn;
    this.files = files;
    this.submit = submit;
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

  @Override
  @Workflow(name = "telegram.message")
  @SuppressWarnings("try") // the MDC entries are held for the body, unreferenced
  public String telegramMessage(RunEvent event) {
    String runId = DBOS.workflowId();
    String chat = event.conversationKey();
    try (MDC.MDCCloseable a = MDC.putCloseable("run_id", runId);
        MDC.MDCCloseable b = MDC.putCloseable("workflow_name", "telegram.message");
        MDC.MDCCloseable c = MDC.putCloseable("conversation_key", chat)) {
      turn.awaitTurn(runId, chat);
      log.info("run started");
      String reply = turn.answer(runId, chat, event.text(), 0, false);
      // Sent before the run lets the chat's next message go, so replies arrive in order; a step,
      // so a run resumed after a crash does not send it again once it was sent.
      turn.once("send_reply", () -> sender().send(chat, reply));
      turn.finish(runId);
      log.info("run succeeded");
      return reply;
    } finally {
      turn.released(chat);
    }
  }

  private RunsModule.Replies sender() {
    try {
      return replies
          .get(30, TimeUnit.SECONDS)
          .orElseThrow(
              () ->
                  new IllegalStateException(
                      "Telegram is off: set JODO_TELEGRAM_BOT_TOKEN to send replies"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("stopped while waiting for Telegram", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("Telegram is not ready: " + e, e);
    }
  }

  @Override
  @Workflow(name = "workflow")
  @SuppressWarnings("try") // the MDC entries are held for the body, unreferenced
  public String workflow(String name, String source, RunEvent event) {
    String runId = DBOS.workflowId();
    String conversation = event.conversationKey();
    try (MDC.MDCCloseable a = MDC.putCloseable("run_id", runId);
        MDC.MDCCloseable b = MDC.putCloseable("workflow_name", name);
        MDC.MDCCloseable c = MDC.putCloseable("conversation_key", conversation)) {
      WorkflowFile workflow;
      try {
        workflow = WorkflowFile.parse(name + ".yaml", source);
      } catch (WorkflowFile.Invalid e) {
        throw new IllegalStateException("workflow " + name + " is invalid: " + e.getMessage(), e);
      }
      turn.awaitTurn(runId, conversation);
      log.info("run started");
      String output = steps(runId, workflow, event, 0, new int[] {0});
      turn.finish(runId);
      log.info("run succeeded");
      return output;
    } finally {
      turn.released(conversation);
    }
  }

  @Override
  @Workflow(name = "scheduled")
  public String scheduled(Instant at, Object workflowName) {
    String name = String.valueOf(workflowName);
    Optional<WorkflowFile> workflow = files.current().get(name);
    if (workflow.isEmpty()) {
      log.warn("scheduled workflow {} is gone or invalid; tick {} skipped", name, at);
      return "";
    }
    RunEvent event =
        new RunEvent(
            1,
            name,
            workflow.get().conversationKey().orElse("workflow:" + name),
            null,
            "",
            "{\"scheduled_at\":\"" + at + "\"}");
    // The run's id comes from the tick: DBOS fires each tick once across kernels, and a tick
    // replayed after a crash finds its run already started.
    return submit.apply(event, "schedule:" + name + ":" + at);
  }

  /** Runs the steps of {@code workflow}; its output is its {@code reply}, or its last result. */
  private String steps(String runId, WorkflowFile workflow, RunEvent event, int depth, int[] seq) {
    Map<String, String> vars = new HashMap<>();
    vars.put("event.text", event.text() == null ? "" : event.text());
    vars.put("event.conversation_key", event.conversationKey());
    vars.put("event.user_key", event.userKey() == null ? "" : event.userKey());
    vars.put("event.type", event.type());
    String output = null;
    String last = "";
    for (WorkflowFile.Step step : workflow.steps()) {
      String value =
          switch (step) {
            case WorkflowFile.Recall r -> {
              List<String> found = turn.recall(render(r.query(), vars), r.limit());
              StringBuilder text = new StringBuilder();
              found.forEach(m -> text.append(text.isEmpty() ? "- " : "\n- ").append(m));
              yield text.toString();
            }
            case WorkflowFile.Think t -> turn.ask(render(t.prompt(), vars));
            case WorkflowFile.Agent a -> {
              String answer =
                  turn.answer(
                      runId, event.conversationKey(), render(a.text(), vars), seq[0], false);
              seq[0] += 2;
              yield answer;
            }
            case WorkflowFile.Tool t ->
                turn.useTool(
                    runId,
                    new ToolCall(
                        "wf_" + workflow.name() + "_" + t.line(), t.tool(), arguments(t, vars)));
            case WorkflowFile.Remember m -> {
              turn.remember(render(m.content(), vars), m.tags());
              yield "";
            }
            case WorkflowFile.Reply r -> {
              output = render(r.text(), vars);
              yield output;
            }
            case WorkflowFile.Call c -> {
              if (depth + 1 > MAX_CALL_DEPTH) {
                throw new IllegalStateException(
                    workflow.name()
                        + ".yaml:"
                        + c.line()
                        + ": calls nest deeper than "
                        + MAX_CALL_DEPTH
                        + "; does a workflow call itself?");
              }
              WorkflowFile called =
                  files
                      .current()
                      .get(c.workflow())
                      .orElseThrow(
                          () ->
                              new IllegalStateException(
                                  workflow.name()
                                      + ".yaml:"
                                      + c.line()
                                      + ": there is no valid workflow "
                                      + c.workflow()));
              RunEvent inner =
                  new RunEvent(
                      1,
                      called.name(),
                      event.conversationKey(),
                      event.userKey(),
                      render(c.text(), vars),
                      null);
              yield steps(runId, called, inner, depth + 1, seq);
            }
          };
      step.as().ifPresent(as -> vars.put(as, value));
      last = value;
    }
    return output != null ? output : last;
  }

  private String arguments(WorkflowFile.Tool tool, Map<String, String> vars) {
    try {
      return json.writeValueAsString(renderDeep(tool.arguments(), vars));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the arguments of " + tool.tool(), e);
    }
  }

  private static Object renderDeep(Object value, Map<String, String> vars) {
    if (value instanceof String text) {
      return render(text, vars);
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), renderDeep(v, vars)));
      return out;
    }
    if (value instanceof List<?> list) {
      return list.stream().map(v -> renderDeep(v, vars)).toList();
    }
    return value;
  }

  /** The template with each {@code {{variable}}} replaced by its value. */
  static String render(String template, Map<String, String> vars) {
    Matcher m = WorkflowFile.VARIABLE.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(vars.getOrDefault(m.group(1), "")));
    }
    m.appendTail(out);
    return out.toString();
  }
}
