package dev.jodo.kernel.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.jodo.kernel.gateway.provider.ToolCall;
import dev.jodo.kernel.gateway.provider.ToolSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workspace's tools: {@code tools/<name>/tool.yaml} (docs/tools.md). A call is checked against
 * the tool's JSON Schema, then run as a subprocess: the arguments as JSON on stdin, the workspace
 * as working directory, an environment of a few harmless variables (none of the kernel's secrets),
 * a timeout that kills the whole process tree, stdout capped at 64 KiB. Every call leaves a row in
 * {@code tool_calls}. The files are read again when one changes; a broken one is left out.
 */
public final class WorkspaceTools implements Tools {
  private static final Logger log = LoggerFactory.getLogger(WorkspaceTools.class);

  static final int MAX_OUTPUT = 64 * 1024;
  private static final String SETSID_PATH = "/usr/bin/setsid";
  private static final boolean SETSID = Files.isExecutable(Path.of(SETSID_PATH));
  static final int MAX_ERROR_OUTPUT = 4 * 1024;
  static final int DEFAULT_TIMEOUT_S = 30;
  static final Set<String> PASSED_ENV = Set.of("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR");
  private static final Set<String> KEYS =
      Set.of("description", "parameters", "command", "timeout_s", "requires_approval");

  /** A loaded tool. */
  record Tool(
      ToolSpec spec,
      JsonSchema schema,
      List<String> command,
      Duration timeout,
      boolean requiresApproval) {}

  private final Path workspace;
  private final DataSource dataSource;
  private final Map<String, String> baseEnv;
  private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
  private final ObjectMapper json = new ObjectMapper();
  private final JsonSchemaFactory schemas =
      JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

  /** The 2020-12 meta-schema (bundled with the library), which a tool's schema must fit. */
  private final JsonSchema metaSchema =
      schemas.getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));

  private String fingerprint = "";
  private Map<String, Tool> tools = Map.of();
  private List<String> problems = List.of();

  /** {@code baseEnv} is where the passed variables come from (the kernel's own environment). */
  public WorkspaceTools(Path workspace, DataSource dataSource, Map<String, String> baseEnv) {
    this.workspace = workspace;
    this.dataSource = dataSource;
    this.baseEnv = Map.copyOf(baseEnv);
  }

  public static WorkspaceTools open(Path workspace, DataSource dataSource) {
    return new WorkspaceTools(workspace, dataSource, System.getenv());
  }

  @Override
  public List<ToolSpec> offered() {
    return current().values().stream().map(Tool::spec).toList();
  }

  /** The problems of the tool files that were left out: {@code file: reason}. */
  public synchronized List<String> problems() {
    current();
    return problems;
  }

  @Override
  public ToolOutcome call(String runId, ToolCall call) {
    long start = System.nanoTime();
    String hash = sha256(call.argumentsJson() == null ? "" : call.argumentsJson());
    Tool tool = call.name() == null ? null : current().get(call.name());
    if (tool == null) {
      audit(runId, String.valueOf(call.name()), hash, "refused", null, start, 0);
      return new ToolOutcome("there is no tool " + call.name(), true);
    }
    JsonNode arguments;
    try {
      arguments = json.readTree(call.argumentsJson() == null ? "{}" : call.argumentsJson());
    } catch (JsonProcessingException e) {
      audit(runId, call.name(), hash, "refused", null, start, 0);
      return new ToolOutcome("the arguments are not JSON: " + e.getOriginalMessage(), true);
    }
    Set<ValidationMessage> invalid = tool.schema().validate(arguments);
    if (!invalid.isEmpty()) {
      audit(runId, call.name(), hash, "refused", null, start, 0);
      List<String> reasons = invalid.stream().map(ValidationMessage::getMessage).sorted().toList();
      return new ToolOutcome(
          "the arguments do not fit the tool's schema: " + String.join("; ", reasons), true);
    }
    return run(runId, call.name(), tool, arguments, hash, start);
  }

  private ToolOutcome run(
      String runId, String name, Tool tool, JsonNode arguments, String hash, long start) {
    List<String> argv = new ArrayList<>();
    if (SETSID) {
      argv.add(SETSID_PATH); // its own process group, so that all of it can be stopped
    }
    argv.addAll(tool.command());
    ProcessBuilder builder = new ProcessBuilder(argv).directory(workspace.toFile());
    Map<String, String> env = builder.environment();
    env.clear();
    PASSED_ENV.forEach(
        key -> {
          String value = baseEnv.get(key);
          if (value != null) {
            env.put(key, value);
          }
        });
    env.put("JODO_RUN_ID", runId);
    env.put("JODO_TOOL", name);
    env.put("JODO_WORKSPACE_DIR", workspace.toString());
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      audit(runId, name, hash, "error", null, start, 0);
      return new ToolOutcome("the tool could not start: " + e.getMessage(), true);
    }
    // Readers and the writer on threads of their own: a tool that never reads its stdin, or a
    // chatty one, cannot hold up the timeout.
    FutureTask<Capped> out = reader(process.getInputStream(), MAX_OUTPUT);
    FutureTask<Capped> err = reader(process.getErrorStream(), MAX_ERROR_OUTPUT);
    byte[] input = arguments.toString().getBytes(StandardCharsets.UTF_8);
    Thread.ofVirtual()
        .start(
            () -> {
              try (OutputStream stdin = process.getOutputStream()) {
                stdin.write(input);
              } catch (IOException e) {
                // The tool closed its stdin without reading all of it: its own business.
              }
            });
    try {
      boolean exited = process.waitFor(tool.timeout().toMillis(), TimeUnit.MILLISECONDS);
      // Whatever the tool left running (a background child holding its output, say) goes too.
      stop(process);
      if (!exited) {
        audit(runId, name, hash, "timeout", null, start, 0);
        return new ToolOutcome(
            "the tool timed out after " + tool.timeout().toSeconds() + " s and was stopped", true);
      }
      Capped stdout = out.get(5, TimeUnit.SECONDS);
      Capped stderr = err.get(5, TimeUnit.SECONDS);
      int code = process.exitValue();
      String text = stdout.text() + (stdout.cut() ? "\n[output cut at 64 KiB]" : "");
      if (code != 0) {
        audit(runId, name, hash, "error", code, start, stdout.bytes());
        return new ToolOutcome(
            "the tool exited with "
                + code
                + (stderr.text().isBlank() ? "" : ": " + stderr.text().strip()),
            true);
      }
      audit(runId, name, hash, "ok", code, start, stdout.bytes());
      return new ToolOutcome(text, false);
    } catch (InterruptedException e) {
      stop(process);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("stopped while the tool " + name + " ran", e);
    } catch (ExecutionException | TimeoutException e) {
      stop(process);
      audit(runId, name, hash, "error", null, start, 0);
      return new ToolOutcome("the tool's output could not be read: " + e, true);
    }
  }

  private static FutureTask<Capped> reader(InputStream in, int cap) {
    FutureTask<Capped> task = new FutureTask<>(() -> capped(in, cap));
    Thread.ofVirtual().start(task);
    return task;
  }

  /**
   * Kills the tool's process group (the tool runs as its leader, under {@code setsid}): the tool
   * and everything it started, even what it left behind when it exited. Without setsid, the
   * processes still below it.
   */
  private static void stop(Process process) {
    if (SETSID) {
      try {
        new ProcessBuilder("kill", "-KILL", "--", "-" + process.pid())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start()
            .waitFor(5, TimeUnit.SECONDS);
      } catch (IOException e) {
        log.warn("cannot stop the tool's processes: {}", e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  private record Capped(String text, int bytes, boolean cut) {}

  /** Reads the stream to its end, keeping the first {@code cap} bytes. */
  private static Capped capped(InputStream in, int cap) throws IOException {
    ByteArrayOutputStream kept = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    long total = 0;
    for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
      int room = (int) Math.max(0, cap - total);
      kept.write(buffer, 0, Math.min(room, n));
      total += n;
    }
    return new Capped(kept.toString(StandardCharsets.UTF_8), kept.size(), total > cap);
  }

  private synchronized Map<String, Tool> current() {
    List<Path> files = files();
    StringBuilder print = new StringBuilder();
    for (Path file : files) {
      try {
        print.append(file).append(':').append(Files.getLastModifiedTime(file).toMillis());
        print.append(':').append(Files.size(file)).append(';');
      } catch (IOException e) {
        print.append(file).append(":gone;");
      }
    }
    if (!print.toString().equals(fingerprint)) {
      load(files);
      fingerprint = print.toString();
    }
    return tools;
  }

  private void load(List<Path> files) {
    Map<String, Tool> loaded = new TreeMap<>();
    List<String> found = new ArrayList<>();
    for (Path file : files) {
      String where = workspace.relativize(file).toString();
      String name = file.getParent().getFileName().toString();
      try {
        loaded.put(name, parse(name, file));
      } catch (IllegalArgumentException e) {
        found.add(where + ": " + e.getMessage());
      } catch (IOException e) {
        found.add(where + ": cannot read it as YAML: " + e.getMessage());
      }
    }
    found.forEach(problem -> log.warn("tool not loaded: {}", problem));
    tools = Collections.unmodifiableMap(loaded); // in name order
    problems = List.copyOf(found);
  }

  private Tool parse(String name, Path file) throws IOException {
    if (!name.matches("[a-zA-Z0-9_-]{1,64}")) {
      throw new IllegalArgumentException(
          "the folder name '"
              + name
              + "' is not a tool name (letters, digits, _ and -, at most 64)");
    }
    JsonNode root = yaml.readTree(file.toFile());
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("expected a mapping with description and command");
    }
    for (Iterator<String> keys = root.fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "unknown key '"
                + key
                + "'; known keys are "
                + String.join(", ", KEYS.stream().sorted().toList()));
      }
    }
    JsonNode describes = root.path("description");
    if (!describes.isTextual() || describes.asText().isBlank()) {
      throw new IllegalArgumentException(
          "description: missing or not text; say what the tool does");
    }
    String description = describes.asText();
    JsonNode approval = root.path("requires_approval");
    if (!approval.isMissingNode() && !approval.isBoolean()) {
      throw new IllegalArgumentException("requires_approval: use true or false");
    }
    JsonNode command = root.path("command");
    if (!command.isArray() || command.isEmpty()) {
      throw new IllegalArgumentException(
          "command: missing; a list such as [\"./run.sh\"] or [\"python3\", \"tool.py\"]");
    }
    List<String> argv = new ArrayList<>();
    for (JsonNode part : command) {
      if (!part.isTextual()) {
        throw new IllegalArgumentException("command: every element must be text");
      }
      argv.add(part.asText());
    }
    String first = argv.get(0);
    if (first.contains("/") && !Path.of(first).isAbsolute()) {
      argv.set(0, file.getParent().resolve(first).normalize().toString());
    }
    int timeout = root.path("timeout_s").asInt(DEFAULT_TIMEOUT_S);
    if (root.has("timeout_s")
        && (!root.get("timeout_s").isInt() || timeout < 1 || timeout > 3600)) {
      throw new IllegalArgumentException("timeout_s: use a whole number of seconds from 1 to 3600");
    }
    JsonNode parameters = root.path("parameters");
    if (parameters.isMissingNode() || parameters.isNull()) {
      ObjectNode empty = json.createObjectNode();
      empty.put("type", "object");
      empty.putObject("properties");
      parameters = empty;
    } else if (!parameters.isObject() || !"object".equals(parameters.path("type").asText())) {
      throw new IllegalArgumentException(
          "parameters: expected a JSON Schema with type: object (the model's arguments are an"
              + " object)");
    }
    Set<ValidationMessage> unfit = metaSchema.validate(parameters);
    if (!unfit.isEmpty()) {
      throw new IllegalArgumentException(
          "parameters: not a valid JSON Schema: "
              + String.join(
                  "; ", unfit.stream().map(ValidationMessage::getMessage).sorted().toList()));
    }
    JsonSchema schema;
    try {
      schema = schemas.getSchema(parameters);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("parameters: not a usable JSON Schema: " + e.getMessage());
    }
    return new Tool(
        new ToolSpec(name, description, parameters),
        schema,
        List.copyOf(argv),
        Duration.ofSeconds(timeout),
        root.path("requires_approval").asBoolean(false));
  }

  private List<Path> files() {
    Path root = workspace.resolve("tools");
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.map(d -> d.resolve("tool.yaml")).filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      log.warn("cannot list the tools in {}: {}", root, e.getMessage());
      return List.of();
    }
  }

  private void audit(
      String runId, String tool, String hash, String outcome, Integer exit, long start, int bytes) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO tool_calls (run_id, tool, arguments_sha256, outcome, exit_code,"
                    + " duration_ms, output_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, runId);
      ps.setString(2, tool.length() > 64 ? tool.substring(0, 64) : tool);
      ps.setString(3, hash);
      ps.setString(4, outcome);
      if (exit == null) {
        ps.setNull(5, Types.INTEGER);
      } else {
        ps.setInt(5, exit);
      }
      ps.setLong(6, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      ps.setInt(7, bytes);
      ps.executeUpdate();
    } catch (SQLException e) {
      // The call has happened: failing it now would have it run again. Say so and go on.
      log.error("tool call of {} in {} not audited: {}", tool, runId, e.getMessage());
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
