package dev.jodo.kernel.runs;

import com.cronutils.parser.CronParser;
import dev.dbos.transact.execution.SchedulerService;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A declarative workflow, {@code workflows/<name>.yaml} in the workspace: a list of steps in a
 * small language (docs/workflows.md). Parsing checks everything it can before a run: the keys of
 * each step, the cron of a schedule, and that every {@code {{variable}}} is the event's or set by
 * an earlier step. A problem is reported with its file and line.
 */
record WorkflowFile(
    String name,
    String description,
    Optional<String> schedule,
    Optional<String> conversationKey,
    List<Step> steps,
    String source) {

  /** A problem with a file: where, and what to do about it. */
  record Problem(String file, int line, String message) {
    @Override
    public String toString() {
      return file + ":" + line + ": " + message;
    }
  }

  /** The file could not be loaded; {@link #problems} say why. */
  static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient List<Problem> problems;

    Invalid(List<Problem> problems) {
      super(problems.get(0).toString());
      this.problems = List.copyOf(problems);
    }

    List<Problem> problems() {
      return problems;
    }
  }

  /** One step; {@code as} names the variable its result is kept in (empty: not kept). */
  sealed interface Step {
    int line();

    Optional<String> as();
  }

  record Recall(int line, String query, int limit, Optional<String> as) implements Step {}

  record Think(int line, String prompt, Optional<String> as) implements Step {}

  record Agent(int line, String text, Optional<String> as) implements Step {}

  record Tool(int line, String tool, Map<String, Object> arguments, Optional<String> as)
      implements Step {}

  record Remember(int line, String content, List<String> tags) implements Step {
    @Override
    public Optional<String> as() {
      return Optional.empty();
    }
  }

  record Reply(int line, String text) implements Step {
    @Override
    public Optional<String> as() {
      return Optional.empty();
    }
  }

  record Call(int line, String workflow, String text, Optional<String> as) implements Step {}

  static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  static final Pattern VARIABLE = Pattern.compile("\\{\\{\\s*([a-zA-Z0-9_.]+)\\s*}}");
  static final Set<String> EVENT_VARIABLES =
      Set.of("event.text", "event.conversation_key", "event.user_key", "event.type");

  private static final Map<String, Set<String>> KEYS =
      Map.of(
          "recall", Set.of("query", "limit", "as"),
          "think", Set.of("prompt", "as"),
          "agent", Set.of("text", "as"),
          "tool", Set.of("name", "arguments", "as"),
          "remember", Set.of("content", "tags"),
          "reply", Set.of("text"),
          "call", Set.of("workflow", "text", "as"));

  private static final CronParser CRON = SchedulerService.CRON_PARSER;

  /** Parses {@code source}, the text of {@code file} (whose name without .yaml names it). */
  static WorkflowFile parse(String file, String source) throws Invalid {
    String name = file.replaceFirst("\\.ya?ml$", "");
    List<Problem> problems = new ArrayList<>();
    Node root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(new StringReader(source));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 1 : e.getProblemMark().getLine() + 1;
      throw new Invalid(List.of(new Problem(file, line, "not valid YAML: " + e.getProblem())));
    } catch (RuntimeException e) {
      throw new Invalid(List.of(new Problem(file, 1, "not valid YAML: " + e.getMessage())));
    }
    if (!NAME.matcher(name).matches()) {
      problems.add(
          new Problem(
              file, 1, "the file name must be a workflow name: lowercase letters, digits, . _ -"));
    }
    if (!(root instanceof MappingNode top)) {
      problems.add(new Problem(file, 1, "expected a mapping with description, schedule, steps"));
      throw new Invalid(problems);
    }
    Map<String, Node> fields =
        fields(file, top, Set.of("description", "schedule", "conversation_key", "steps"), problems);
    String description = text(file, fields.get("description"), problems).orElse("");
    Optional<String> schedule = text(file, fields.get("schedule"), problems);
    schedule.ifPresent(
        cron -> {
          try {
            CRON.parse(cron).validate();
          } catch (IllegalArgumentException e) {
            problems.add(
                new Problem(
                    file,
                    line(fields.get("schedule")),
                    "schedule '"
                        + cron
                        + "' is not a cron of six fields (second minute hour day month weekday),"
                        + " e.g. '0 0 7 * * *' for 07:00 every day: "
                        + e.getMessage()));
          }
        });
    Optional<String> conversationKey = text(file, fields.get("conversation_key"), problems);
    List<Step> steps = new ArrayList<>();
    Node stepsField = fields.get("steps");
    if (stepsField == null) {
      problems.add(new Problem(file, 1, "steps: missing; list at least one step"));
    } else if (!(stepsField instanceof SequenceNode list) || list.getValue().isEmpty()) {
      problems.add(new Problem(file, line(stepsField), "steps: expected a non-empty list"));
    } else {
      Set<String> known = new HashSet<>(EVENT_VARIABLES);
      for (Node item : list.getValue()) {
        step(file, item, known, problems).ifPresent(steps::add);
      }
    }
    if (!problems.isEmpty()) {
      throw new Invalid(problems);
    }
    return new WorkflowFile(name, description, schedule, conversationKey, steps, source);
  }

  private static Optional<Step> step(
      String file, Node item, Set<String> known, List<Problem> problems) {
    int line = item.getStartMark().getLine() + 1;
    if (!(item instanceof MappingNode mapping) || mapping.getValue().size() != 1) {
      problems.add(
          new Problem(
              file, line, "a step is one of " + String.join(", ", sorted(KEYS.keySet())) + ":"));
      return Optional.empty();
    }
    NodeTuple only = mapping.getValue().get(0);
    String kind = scalar(only.getKeyNode()).orElse("");
    if (!KEYS.containsKey(kind)) {
      problems.add(
          new Problem(
              file,
              line,
              "unknown step '"
                  + kind
                  + "'; use one of "
                  + String.join(", ", sorted(KEYS.keySet()))));
      return Optional.empty();
    }
    Map<String, Node> args;
    if (only.getValueNode() instanceof ScalarNode shorthand) {
      // `reply: text`, `agent: text`, `think: prompt`, `recall: query`, `remember: content`
      String main =
          switch (kind) {
            case "reply", "agent" -> "text";
            case "think" -> "prompt";
            case "recall" -> "query";
            case "remember" -> "content";
            default -> "";
          };
      if (main.isEmpty()) {
        problems.add(new Problem(file, line, kind + ": expected a mapping of its settings"));
        return Optional.empty();
      }
      args = Map.of(main, shorthand);
    } else if (only.getValueNode() instanceof MappingNode settings) {
      args = fields(file, settings, KEYS.get(kind), problems);
    } else {
      problems.add(new Problem(file, line, kind + ": expected a mapping of its settings"));
      return Optional.empty();
    }
    int before = problems.size();
    Optional<String> as = text(file, args.get("as"), problems);
    as.ifPresent(
        name -> {
          if (!name.matches("[a-zA-Z_][a-zA-Z0-9_]{0,63}") || name.startsWith("event")) {
            problems.add(
                new Problem(file, line, "as: '" + name + "' is not a variable name (letters, _)"));
          }
        });
    Step step =
        switch (kind) {
          case "recall" ->
              new Recall(
                  line,
                  required(file, line, kind, "query", args, known, problems),
                  integer(file, args.get("limit"), 5, 1, 20, problems),
                  as);
          case "think" ->
              new Think(line, required(file, line, kind, "prompt", args, known, problems), as);
          case "agent" ->
              new Agent(
                  line,
                  optional(file, args.get("text"), known, problems).orElse("{{event.text}}"),
                  as);
          case "tool" ->
              new Tool(
                  line,
                  required(file, line, kind, "name", args, Set.of(), problems),
                  arguments(file, args.get("arguments"), known, problems),
                  as);
          case "remember" ->
              new Remember(
                  line,
                  required(file, line, kind, "content", args, known, problems),
                  tags(file, args.get("tags"), problems));
          case "reply" ->
              new Reply(line, required(file, line, kind, "text", args, known, problems));
          case "call" ->
              new Call(
                  line,
                  required(file, line, kind, "workflow", args, Set.of(), problems),
                  optional(file, args.get("text"), known, problems).orElse("{{event.text}}"),
                  as);
          default -> throw new IllegalStateException(kind);
        };
    as.ifPresent(known::add);
    return problems.size() == before ? Optional.of(step) : Optional.empty();
  }

  /** The values of a mapping by key; a key not {@code allowed} is a problem. */
  private static Map<String, Node> fields(
      String file, MappingNode mapping, Set<String> allowed, List<Problem> problems) {
    Map<String, Node> fields = new LinkedHashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      String key = scalar(tuple.getKeyNode()).orElse("");
      if (!allowed.contains(key)) {
        problems.add(
            new Problem(
                file,
                line(tuple.getKeyNode()),
                "unknown key '"
                    + key
                    + "'; known keys here are "
                    + String.join(", ", sorted(allowed))));
      } else {
        fields.put(key, tuple.getValueNode());
      }
    }
    return fields;
  }

  private static String required(
      String file,
      int line,
      String kind,
      String key,
      Map<String, Node> args,
      Set<String> known,
      List<Problem> problems) {
    Optional<String> value = optional(file, args.get(key), known, problems);
    if (value.isEmpty()) {
      problems.add(new Problem(file, line, kind + "." + key + ": missing"));
    }
    return value.orElse("");
  }

  private static Optional<String> optional(
      String file, Node node, Set<String> known, List<Problem> problems) {
    Optional<String> value = text(file, node, problems);
    value.ifPresent(text -> checkVariables(file, line(node), text, known, problems));
    return value;
  }

  private static void checkVariables(
      String file, int line, String text, Set<String> known, List<Problem> problems) {
    Matcher m = VARIABLE.matcher(text);
    while (m.find()) {
      if (!known.contains(m.group(1))) {
        problems.add(
            new Problem(
                file,
                line,
                "{{"
                    + m.group(1)
                    + "}} is not set here; use event.text, event.conversation_key,"
                    + " event.user_key, event.type or the `as` of an earlier step"));
      }
    }
  }

  private static Map<String, Object> arguments(
      String file, Node node, Set<String> known, List<Problem> problems) {
    if (node == null) {
      return Map.of();
    }
    if (!(node instanceof MappingNode mapping)) {
      problems.add(new Problem(file, line(node), "tool.arguments: expected a mapping"));
      return Map.of();
    }
    Object value = new Yaml(new SafeConstructor(new LoaderOptions())).load(dump(mapping));
    checkVariables(file, line(node), String.valueOf(value), known, problems);
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) value;
    return map;
  }

  private static String dump(Node node) {
    StringWriter out = new StringWriter();
    new Yaml().serialize(node, out);
    return out.toString();
  }

  private static List<String> tags(String file, Node node, List<Problem> problems) {
    if (node == null) {
      return List.of();
    }
    if (!(node instanceof SequenceNode list)) {
      problems.add(new Problem(file, line(node), "remember.tags: expected a list of words"));
      return List.of();
    }
    List<String> tags = new ArrayList<>();
    for (Node item : list.getValue()) {
      scalar(item).ifPresent(tags::add);
    }
    return tags;
  }

  private static int integer(
      String file, Node node, int fallback, int min, int max, List<Problem> problems) {
    Optional<String> text = text(file, node, problems);
    if (text.isEmpty()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text.get());
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add(
        new Problem(
            file, line(node), "'" + text.get() + "' is not a number from " + min + " to " + max));
    return fallback;
  }

  private static Optional<String> text(String file, Node node, List<Problem> problems) {
    if (node == null) {
      return Optional.empty();
    }
    Optional<String> value = scalar(node);
    if (value.isEmpty()) {
      problems.add(new Problem(file, line(node), "expected text here"));
    }
    return value;
  }

  private static Optional<String> scalar(Node node) {
    return node instanceof ScalarNode s ? Optional.of(s.getValue()) : Optional.empty();
  }

  private static int line(Node node) {
    return node == null ? 1 : node.getStartMark().getLine() + 1;
  }

  private static List<String> sorted(Set<String> values) {
    return values.stream().sorted().toList();
  }
}
