package dev.jodo.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.jodo.kernel.DockerfileInstructions.Instruction;
import dev.jodo.kernel.platform.config.ConfigLoader;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment files ({@code Dockerfile}, {@code docker-compose.yaml}, {@code .env.example},
 * {@code scripts/setup-jodo-vps.sh}) read as they are in the repository and checked against the
 * code they deploy: no Docker engine runs where the tests do, so this is their syntax check and the
 * guard that keeps their names in step with the configuration code.
 */
class DeploymentFilesTest {
  private static final Path ROOT = Path.of("").toAbsolutePath();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern JODO_NAME = Pattern.compile("\\bJODO_[A-Z0-9_]+\\b");
  // The launchers' own variable: ./jodo and the image's jodo pass it to the JVM; the kernel never
  // sees it. Checked below to be read by both, so the exception cannot outlive them.
  private static final String LAUNCHER_VARIABLE = "JODO_JAVA_OPTS";

  @TempDir Path temp;

  record Run(int code, String out, String err) {}

  // ---- docker-compose.yaml ----

  @Test
  void composeRunsTheKernelOnTheComposePostgres() throws IOException {
    JsonNode compose = compose();
    assertThat(fieldNames(compose.path("services"))).containsExactly("kernel", "postgres");

    JsonNode kernel = compose.path("services").path("kernel");
    assertThat(kernel.path("build").asText()).isEqualTo(".");
    assertThat(kernel.path("depends_on").path("postgres").path("condition").asText())
        .isEqualTo("service_healthy");

    JsonNode postgres = compose.path("services").path("postgres");
    assertThat(postgres.path("image").asText()).isEqualTo("pgvector/pgvector:pg16");
    assertThat(fieldNames(postgres.path("environment")))
        .containsExactlyInAnyOrder("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB");
    JsonNode test = postgres.path("healthcheck").path("test");
    assertThat(test.isArray()).as("postgres healthcheck.test is a list").isTrue();
    assertThat(test.get(0).asText()).isEqualTo("CMD-SHELL");
    assertThat(test.get(1).asText()).startsWith("pg_isready ");
    assertThat(strings(postgres.path("volumes"))).contains("pgdata:/var/lib/postgresql/data");

    Set<String> declared = fieldNames(compose.path("volumes"));
    for (JsonNode service : List.of(kernel, postgres)) {
      for (String volume : strings(service.path("volumes"))) {
        String source = volume.substring(0, volume.indexOf(':'));
        if (!source.startsWith(".") && !source.startsWith("/") && !source.startsWith("~")) {
          assertThat(declared).as("named volume %s is declared", source).contains(source);
        }
      }
    }
  }

  @Test
  void composeAndDockerfileAgreeOnHomePortAndHealth() throws IOException {
    DockerfileInstructions dockerfile = dockerfile();
    Map<String, String> env = dockerfileEnv(dockerfile);
    JsonNode kernel = compose().path("services").path("kernel");

    assertThat(strings(kernel.path("volumes")))
        .as("the kernel-home volume holds JODO_HOME")
        .contains("kernel-home:" + env.get("JODO_HOME"));
    String port = env.get("JODO_PORT");
    assertThat(dockerfile.all("EXPOSE")).extracting(Instruction::arguments).containsExactly(port);
    assertThat(single(strings(kernel.path("ports")))).endsWith(":" + port);

    String health = single(dockerfile.all("HEALTHCHECK")).arguments();
    Matcher url =
        Pattern.compile("http://127\\.0\\.0\\.1:\\$\\{JODO_PORT}(/[a-z]+)").matcher(health);
    assertThat(url.find()).as("HEALTHCHECK calls the kernel on JODO_PORT: %s", health).isTrue();
    assertThat(read("src/main/java/dev/jodo/kernel/api/StatusRoutes.java"))
        .as("the health check's path is a route of StatusRoutes")
        .contains("routes.get(\"" + url.group(1) + "\", ");
  }

  @Test
  void everyComposeVariableIsInEnvExampleAndBack() throws IOException {
    Set<String> used = composeVariables();
    Set<String> listed = envExample().keySet();

    assertThat(difference(used, listed))
        .as("variables docker-compose.yaml uses but .env.example does not list")
        .isEmpty();
    assertThat(difference(listed, used))
        .as("variables .env.example lists but docker-compose.yaml never uses")
        .isEmpty();
    assertThat(envExample())
        .as(".env.example carries no secret")
        .allSatisfy(
            (name, value) -> {
              if (name.matches(".*(KEY|PASSWORD|TOKEN)$")) {
                assertThat(value).as(name).isEmpty();
              }
            });
  }

  @Test
  void everyJodoVariableIsOneTheCodeReads() throws IOException {
    Set<String> known = new TreeSet<>(configCodeVariables());
    assertThat(known)
        .as("the scan of the config code finds its variables")
        .contains("JODO_DATABASE_URL", "JODO_HOME", "JODO_PORT");
    assertThat(read("jodo")).contains("${" + LAUNCHER_VARIABLE);
    assertThat(read("scripts/jodo-container.sh")).contains("${" + LAUNCHER_VARIABLE);
    known.add(LAUNCHER_VARIABLE);

    Map<String, Set<String>> used = new LinkedHashMap<>();
    used.put(
        "docker-compose.yaml", jodoNames(Files.readString(ROOT.resolve("docker-compose.yaml"))));
    used.put(".env.example", jodoNames(read(".env.example")));
    used.put("Dockerfile", jodoNames(read("Dockerfile")));
    List<String> unknown = new ArrayList<>();
    used.forEach(
        (file, names) ->
            difference(names, known)
                .forEach(name -> unknown.add(file + " uses " + name + ", which no code reads")));
    assertThat(unknown).as("the config code reads only %s", known).isEmpty();
  }

  @Test
  void theKernelServiceEnvironmentIsAValidConfiguration() throws IOException {
    Map<String, String> dotEnv = new HashMap<>(envExample());
    dotEnv.put("POSTGRES_PASSWORD", "0123456789abcdef");
    Map<String, String> env = new HashMap<>(dockerfileEnv(dockerfile()));
    env.putAll(kernelEnvironment(dotEnv));
    // The image's JODO_HOME and JODO_CONFIG_DIR, pointed at this machine's equivalents.
    env.put("JODO_HOME", temp.toString());
    env.put("JODO_CONFIG_DIR", ROOT.resolve("configs").toString());

    KernelConfig config = new ConfigLoader(env).load();

    assertThat(config.database())
        .as("JODO_DATABASE_URL names the compose postgres service, so no private cluster")
        .isInstanceOfSatisfying(
            DatabaseTarget.External.class,
            db -> {
              assertThat(db.jdbcUrl()).isEqualTo("jdbc:postgresql://postgres:5432/jodo_kernel");
              assertThat(db.user()).isEqualTo(dotEnv.get("POSTGRES_USER"));
              assertThat(db.password().value()).isEqualTo("0123456789abcdef");
            });
    assertThat(config.port()).isEqualTo(8080);
    assertThat(config.adminToken()).as("an empty JODO_ADMIN_TOKEN means generate one").isEmpty();
    assertThat(config.providers().get("ollama").baseUrl().toString())
        .isEqualTo(dotEnv.get("OLLAMA_BASE_URL"));
  }

  @Test
  void theKernelServicePassesEveryVariableTheConfigFileReads() throws IOException {
    Set<String> configFile = new TreeSet<>();
    collectStrings(
        YAML.readTree(ROOT.resolve("configs/config.yaml").toFile()),
        text -> configFile.addAll(ComposeVariables.names(text)));
    Set<String> passed =
        new TreeSet<>(kernelEnvironment(Map.of("POSTGRES_PASSWORD", "x")).keySet());
    passed.removeIf(name -> name.startsWith("JODO_"));

    assertThat(passed)
        .as("configs/config.yaml's ${VAR}s, passed to the kernel")
        .isEqualTo(configFile);
  }

  @Test
  void composeStopsWithoutAPostgresPassword() throws IOException {
    Map<String, String> dotEnv = envExample();
    assertThat(dotEnv.get("POSTGRES_PASSWORD")).isEmpty();

    assertThatThrownBy(() -> kernelEnvironment(dotEnv))
        .hasMessageContaining("POSTGRES_PASSWORD")
        .hasMessageContaining("set POSTGRES_PASSWORD in .env");
  }

  @Test
  void composeConfigAcceptsTheFileWhereComposeIsInstalled() throws Exception {
    List<String> compose = composeCommand();
    assumeTrue(!compose.isEmpty(), "neither docker-compose nor the docker compose plugin is here");
    Path project = Files.createDirectories(temp.resolve("project"));
    Files.copy(ROOT.resolve("docker-compose.yaml"), project.resolve("docker-compose.yaml"));
    Path dotEnv = project.resolve(".env");
    Files.copy(ROOT.resolve(".env.example"), dotEnv);

    Run withoutPassword = runIn(project, Map.of(), concat(compose, "config", "-q"));
    Files.writeString(
        dotEnv,
        Files.readString(dotEnv)
            .replace("\nPOSTGRES_PASSWORD=\n", "\nPOSTGRES_PASSWORD=0123456789abcdef\n"));
    Run valid = runIn(project, Map.of(), concat(compose, "config", "-q"));

    assertThat(withoutPassword.code()).isNotZero();
    assertThat(withoutPassword.err()).contains("set POSTGRES_PASSWORD in .env");
    assertThat(valid.code()).as(valid.err()).isZero();
  }

  // ---- Dockerfile ----

  @Test
  void dockerfileInstructionsAreValid() throws IOException {
    DockerfileInstructions dockerfile = dockerfile();
    assertThat(dockerfile.problems()).isEmpty();
    for (String keyword : List.of("ENTRYPOINT", "CMD", "VOLUME")) {
      for (Instruction instruction : dockerfile.all(keyword)) {
        assertThat(JSON.readTree(instruction.arguments()).isArray())
            .as("line %d: %s in exec (JSON array) form", instruction.line(), keyword)
            .isTrue();
      }
    }
    assertThat(DockerfileInstructions.parse("FROM x\nFRM y\nRUN a \\\n# note\n  b\n").problems())
        .containsExactly("line 2: unknown instruction 'FRM'");
  }

  @Test
  void dockerfileBuildsWithMavenAndRunsOnJre21() throws IOException {
    DockerfileInstructions dockerfile = dockerfile();
    List<Instruction> froms = dockerfile.all("FROM");
    assertThat(froms).hasSize(2);
    assertThat(froms.get(0).arguments()).matches("maven:\\S*temurin-21\\S* AS build");
    assertThat(froms.get(1).arguments()).isEqualTo("eclipse-temurin:21-jre");

    List<Instruction> build = dockerfile.stage(0);
    assertThat(build)
        .filteredOn(i -> i.keyword().equals("RUN"))
        .extracting(Instruction::arguments)
        .anySatisfy(run -> assertThat(run).startsWith("./mvnw -B -q package "));

    String jar = "target/" + finalName() + ".jar";
    List<Instruction> runtime = dockerfile.stage(1);
    assertThat(runtime)
        .filteredOn(i -> i.keyword().equals("COPY"))
        .extracting(Instruction::arguments)
        .contains("--from=build /src/" + jar + " /app/jodo-kernel.jar");
    assertThat(read("scripts/jodo-container.sh")).contains("JAR=/app/jodo-kernel.jar");

    String apt =
        runtime.stream()
            .filter(i -> i.keyword().equals("RUN") && i.arguments().contains("apt-get install"))
            .map(Instruction::arguments)
            .findFirst()
            .orElseThrow();
    assertThat(apt.split("[ ;&|]+"))
        .contains("openssh-client", "git", "curl", "python3", "--no-install-recommends");
    assertThat(apt).contains("rm -rf /var/lib/apt/lists/*");

    Instruction user = dockerfile.all("USER").get(dockerfile.all("USER").size() - 1);
    assertThat(user.arguments()).isNotIn("root", "0");
    assertThat(single(dockerfile.all("ENTRYPOINT")).arguments()).isEqualTo("[\"jodo\"]");
    assertThat(single(dockerfile.all("CMD")).arguments()).isEqualTo("[\"up\"]");
  }

  @Test
  void everythingTheDockerfileCopiesIsInTheBuildContext() throws IOException {
    List<String> ignored =
        read(".dockerignore")
            .lines()
            .map(String::strip)
            .filter(l -> !l.isEmpty() && !l.startsWith("#"))
            .toList();
    assertThat(ignored).as("secrets stay out of the build context").contains(".env", "ssh");
    for (Instruction copy : dockerfile().all("COPY")) {
      List<String> words = List.of(copy.arguments().split(" "));
      if (words.get(0).startsWith("--from=")) {
        continue;
      }
      for (String source : words.subList(0, words.size() - 1)) {
        String path = source.replaceAll("/$", "");
        assertThat(ROOT.resolve(path)).as("line %d copies %s", copy.line(), source).exists();
        assertThat(ignored)
            .as("line %d copies %s, which .dockerignore excludes", copy.line(), source)
            .noneMatch(pattern -> path.equals(pattern) || path.startsWith(pattern + "/"));
      }
    }
  }

  @Test
  void theImagesJodoUsesTheLaunchersJvmFlags() throws Exception {
    Matcher flags = Pattern.compile("JVM_FLAGS\\+=\\(([^)]*)\\)").matcher(read("jodo"));
    assertThat(flags.find()).as("./jodo adds JVM flags for up").isTrue();
    Path bin = Files.createDirectories(temp.resolve("bin"));
    Path java = bin.resolve("java");
    Files.writeString(java, "#!/bin/sh\necho \"$@\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    Map<String, String> env =
        Map.of(
            "PATH",
            bin + File.pathSeparator + System.getenv("PATH"),
            LAUNCHER_VARIABLE,
            "-Xmx1g -Dx=y");

    Run up = run(env, "sh", "scripts/jodo-container.sh", "up");
    Run token = run(env, "sh", "scripts/jodo-container.sh", "token");

    assertThat(up.out().strip())
        .isEqualTo(flags.group(1).strip() + " -Xmx1g -Dx=y -jar /app/jodo-kernel.jar up");
    assertThat(token.out().strip()).isEqualTo("-Xmx1g -Dx=y -jar /app/jodo-kernel.jar token");
  }

  // ---- scripts ----

  @Test
  void scriptsParse() throws Exception {
    for (String script : List.of("scripts/setup-jodo-vps.sh", "scripts/jodo-container.sh")) {
      Run syntax = run(Map.of(), "bash", "-n", script);
      assertThat(syntax.code()).as("bash -n %s: %s", script, syntax.err()).isZero();
      assertThat(Files.isExecutable(ROOT.resolve(script))).as("%s is executable", script).isTrue();
    }
  }

  @Test
  void scriptsPassShellcheck() throws Exception {
    assumeTrue(onPath("shellcheck"), "shellcheck is not installed (apt-get install shellcheck)");
    Run check =
        run(Map.of(), "shellcheck", "scripts/setup-jodo-vps.sh", "scripts/jodo-container.sh");
    assertThat(check.code()).as(check.out()).isZero();
  }

  @Test
  void setupScriptHelpExplainsItself() throws Exception {
    Run help = run(Map.of(), "bash", "scripts/setup-jodo-vps.sh", "--help");

    assertThat(help.code()).isZero();
    assertThat(help.out())
        .startsWith("Usage: setup-jodo-vps.sh [options]")
        .contains("/opt/jodo/brain", "--authorized-key", "9000");
    assertThat(help.err()).isEmpty();
  }

  @Test
  void setupScriptRejectsUnknownOptions() throws Exception {
    Run bad = run(Map.of(), "bash", "scripts/setup-jodo-vps.sh", "--port", "x");

    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err())
        .isEqualTo(
            "setup-jodo-vps.sh: --port 'x' is not a port; use a whole number from 1 to 65535\n");
  }

  @Test
  void setupScriptRefusesToRunWithoutRoot() throws Exception {
    boolean root = "root".equals(System.getProperty("user.name"));
    assumeTrue(!root || onPath("setpriv"), "running as root without setpriv to drop it");
    // The script's text as an argument: the user 'nobody' may not be able to read the checkout.
    List<String> command = new ArrayList<>();
    if (root) {
      command.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
    }
    command.addAll(
        List.of(
            "bash", "-c", read("scripts/setup-jodo-vps.sh"), "setup-jodo-vps.sh", "--no-docker"));

    Run refused = run(Map.of(), command.toArray(String[]::new));

    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err())
        .contains(
            "setup-jodo-vps.sh: must run as root (it installs packages and creates users);"
                + " try: sudo bash setup-jodo-vps.sh --no-docker");
  }

  @Test
  void deploymentDocListsEveryVariable() throws IOException {
    String doc = read("docs/deployment.md");
    assertThat(envExample().keySet())
        .allSatisfy(name -> assertThat(doc).contains("`" + name + "`"));
    assertThat(read("README.md")).contains("docs/deployment.md");
  }

  // ---- helpers ----

  private static JsonNode compose() throws IOException {
    return YAML.readTree(ROOT.resolve("docker-compose.yaml").toFile());
  }

  private static DockerfileInstructions dockerfile() throws IOException {
    return DockerfileInstructions.parse(read("Dockerfile"));
  }

  /** Every variable the compose file refers to, from its values (comments are not read). */
  private static Set<String> composeVariables() throws IOException {
    Set<String> names = new TreeSet<>();
    collectStrings(compose(), text -> names.addAll(ComposeVariables.names(text)));
    return names;
  }

  /** The kernel service's environment as Compose would hand it over with {@code dotEnv}. */
  private static Map<String, String> kernelEnvironment(Map<String, String> dotEnv)
      throws IOException {
    JsonNode environment = compose().path("services").path("kernel").path("environment");
    assertThat(environment.isObject()).as("kernel environment is a mapping").isTrue();
    Map<String, String> env = new LinkedHashMap<>();
    environment
        .properties()
        .forEach(
            e -> env.put(e.getKey(), ComposeVariables.interpolate(e.getValue().asText(), dotEnv)));
    return env;
  }

  private static Map<String, String> envExample() throws IOException {
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : read(".env.example").lines().toList()) {
      String stripped = line.strip();
      if (stripped.isEmpty() || stripped.startsWith("#")) {
        continue;
      }
      int equals = stripped.indexOf('=');
      assertThat(equals).as(".env.example line '%s' is NAME=value", line).isPositive();
      values.put(stripped.substring(0, equals), stripped.substring(equals + 1));
    }
    return values;
  }

  private static Map<String, String> dockerfileEnv(DockerfileInstructions dockerfile) {
    Map<String, String> env = new LinkedHashMap<>();
    for (Instruction instruction : dockerfile.all("ENV")) {
      for (String pair : instruction.arguments().split(" ")) {
        assertThat(pair).as("line %d: ENV NAME=value", instruction.line()).contains("=");
        env.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
      }
    }
    return env;
  }

  /** The {@code "JODO_…"} string literals of the configuration code: the variables it reads. */
  private static Set<String> configCodeVariables() throws IOException {
    Set<String> names = new TreeSet<>();
    Pattern literal = Pattern.compile("\"(JODO_[A-Z0-9_]+)\"");
    try (Stream<Path> files =
        Files.list(ROOT.resolve("src/main/java/dev/jodo/kernel/platform/config"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        Matcher matcher = literal.matcher(Files.readString(file));
        while (matcher.find()) {
          names.add(matcher.group(1));
        }
      }
    }
    return names;
  }

  private static String finalName() throws IOException {
    Matcher matcher = Pattern.compile("<finalName>([^<]+)</finalName>").matcher(read("pom.xml"));
    assertThat(matcher.find()).as("pom.xml sets the jar's finalName").isTrue();
    return matcher.group(1);
  }

  private static Set<String> jodoNames(String text) {
    Set<String> names = new TreeSet<>();
    JODO_NAME.matcher(text).results().forEach(r -> names.add(r.group()));
    return names;
  }

  private static void collectStrings(JsonNode node, java.util.function.Consumer<String> sink) {
    if (node.isTextual()) {
      sink.accept(node.asText());
    }
    node.forEach(child -> collectStrings(child, sink));
  }

  private static Set<String> fieldNames(JsonNode node) {
    Set<String> names = new LinkedHashSet<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static List<String> strings(JsonNode node) {
    List<String> values = new ArrayList<>();
    node.forEach(value -> values.add(value.asText()));
    return values;
  }

  private static Set<String> difference(Set<String> a, Set<String> b) {
    Set<String> result = new TreeSet<>(a);
    result.removeAll(b);
    return result;
  }

  private static <T> T single(List<T> items) {
    assertThat(items).hasSize(1);
    return items.get(0);
  }

  private static String read(String path) throws IOException {
    return Files.readString(ROOT.resolve(path));
  }

  private static boolean onPath(String command) {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
  }

  /** {@code docker-compose} (v1) or {@code docker compose} (v2), whichever works; else empty. */
  private static List<String> composeCommand() throws Exception {
    if (onPath("docker-compose")) {
      return List.of("docker-compose");
    }
    if (onPath("docker") && run(Map.of(), "docker", "compose", "version").code() == 0) {
      return List.of("docker", "compose");
    }
    return List.of();
  }

  private static String[] concat(List<String> head, String... tail) {
    return Stream.concat(head.stream(), Stream.of(tail)).toArray(String[]::new);
  }

  private static Run run(Map<String, String> env, String... command) throws Exception {
    return runIn(ROOT, env, command);
  }

  private static Run runIn(Path directory, Map<String, String> env, String... command)
      throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
    // The deployment's own variables come only from the files under test (or env).
    builder.environment().keySet().removeAll(envExample().keySet());
    builder.environment().putAll(env);
    Path out = Files.createTempFile("deploy-out", ".txt");
    Path err = Files.createTempFile("deploy-err", ".txt");
    builder.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process process = builder.start();
    assertThat(process.waitFor(1, TimeUnit.MINUTES)).as("%s finished", List.of(command)).isTrue();
    Run run = new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return run;
  }
}
