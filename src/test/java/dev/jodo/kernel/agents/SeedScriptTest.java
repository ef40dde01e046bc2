package dev.jodo.kernel.agents;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code seed/seed.py} as a real Python process against a stand-in kernel (a real HTTP server
 * serving {@code /api/genesis}, {@code /api/think} with scripted answers, and {@code /api/commit}).
 */
class SeedScriptTest {
  private static final Path SEED = Path.of("seed/seed.py").toAbsolutePath();
  private static final String TOKEN = "jodo_agent_seedtest";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A tiny stdlib app, as a model might write it: serves /health on JODO_AGENT_PORT. */
  private static final String APP =
      """
      import http.server, json, os

      class Handler(http.server.BaseHTTPRequestHandler):
          def do_GET(self):
              body = json.dumps({"status": "ok"}).encode()
              self.send_response(200 if self.path == "/health" else 404)
              self.send_header("Content-Type", "application/json")
              self.send_header("Content-Length", str(len(body)))
              self.end_headers()
              self.wfile.write(body)

      port = int(os.environ["JODO_AGENT_PORT"])
      http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
      """;

  @TempDir Path brain;
  private HttpServer kernel;
  private final Deque<String> answers = new ArrayDeque<>();
  private final List<JsonNode> thinkRequests = new CopyOnWriteArrayList<>();
  private final List<JsonNode> commits = new CopyOnWriteArrayList<>();
  private final List<String> badAuth = new CopyOnWriteArrayList<>();
  private Process seed;

  @BeforeEach
  void kernel() throws IOException {
    kernel = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    kernel.createContext(
        "/api/genesis",
        exchange ->
            answer(exchange, "{\"identity\":{\"name\":\"Jodo\"},\"purpose\":\"be helpful\"}"));
    kernel.createContext(
        "/api/think",
        exchange -> {
          thinkRequests.add(MAPPER.readTree(exchange.getRequestBody()));
          String content;
          synchronized (answers) {
            content = answers.isEmpty() ? "" : answers.poll();
          }
          answer(exchange, MAPPER.writeValueAsString(Map.of("content", content)));
        });
    kernel.createContext(
        "/api/commit",
        exchange -> {
          commits.add(MAPPER.readTree(exchange.getRequestBody()));
          answer(exchange, "{\"hash\":\"b4e2f1a\",\"timestamp\":\"2026-11-22T10:00:00Z\"}");
        });
    kernel.start();
    Files.copy(SEED, brain.resolve("seed.py"));
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (seed != null) {
      seed.destroyForcibly();
      seed.waitFor(10, TimeUnit.SECONDS);
    }
    kernel.stop(0);
  }

  @Test
  void aMalformedAnswerIsSentBackThenTheAppIsWrittenCommittedAndRun() throws Exception {
    answers.add("Sure! Here is your app:\n```python\nprint('hi')\n```");
    answers.add(files(Map.of("main.py", APP, "static/index.html", "<h1>Jodo</h1>\n")));
    int port = freePort();
    seed = start(port, 3);

    HttpClient client = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    HttpResponse<String> health = null;
    while (System.nanoTime() < deadline && seed.isAlive()) {
      try {
        health =
            client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        break;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    assertThat(health).as(output()).isNotNull();
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(MAPPER.readTree(health.body()).path("status").asText()).isEqualTo("ok");

    assertThat(Files.readString(brain.resolve("main.py"))).isEqualTo(APP);
    assertThat(Files.readString(brain.resolve("static/index.html"))).isEqualTo("<h1>Jodo</h1>\n");
    assertThat(badAuth).isEmpty();
    assertThat(thinkRequests).hasSize(2);
    assertThat(thinkRequests.get(0).path("intent").asText()).isEqualTo("code");
    assertThat(thinkRequests.get(0).path("messages").get(0).path("content").asText())
        .contains("JODO_AGENT_PORT")
        .contains("/health")
        .contains("be helpful");
    JsonNode retry = thinkRequests.get(1).path("messages");
    assertThat(retry).hasSize(3);
    assertThat(retry.get(1).path("role").asText()).isEqualTo("assistant");
    assertThat(retry.get(2).path("content").asText())
        .contains("could not be used")
        .contains("no '=== FILE: <path> ===' ... '=== END FILE ===' blocks");
    assertThat(commits).hasSize(1);
    assertThat(commits.get(0).path("message").asText())
        .isEqualTo("seed: first application (2 files)");
  }

  @Test
  void answersThatNeverFitGiveUpWithExitCodeThreeAndWriteNothing() throws Exception {
    answers.add(files(Map.of("app.py", "print('no main')\n")));
    answers.add(files(Map.of("main.py", "def broken(:\n")));
    answers.add(files(Map.of("../evil.py", "print('outside')\n", "main.py", "print(1)\n")));
    seed = start(freePort(), 3);
    assertThat(seed.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String output = output();
    assertThat(seed.exitValue()).as(output).isEqualTo(3);
    assertThat(output)
        .contains("the answer has no main.py (it has app.py)")
        .contains("main.py does not compile")
        .contains("the file path '../evil.py' is not allowed")
        .contains("no usable answer after 3 attempts");
    assertThat(brain.resolve("main.py")).doesNotExist();
    assertThat(brain.resolveSibling("evil.py")).doesNotExist();
    assertThat(commits).isEmpty();
  }

  @Test
  void missingEnvironmentIsExitCodeTwoNamingTheVariables() throws Exception {
    ProcessBuilder builder = new ProcessBuilder("python3", brain.resolve("seed.py").toString());
    builder.environment().clear();
    builder.environment().put("PATH", System.getenv("PATH"));
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
    assertThat(output)
        .contains("missing environment: JODO_KERNEL_URL, JODO_AGENT_TOKEN, JODO_AGENT_PORT");
  }

  private Process start(int port, int attempts) throws IOException {
    ProcessBuilder builder = new ProcessBuilder("python3", brain.resolve("seed.py").toString());
    builder.directory(brain.toFile());
    builder.environment().clear();
    builder.environment().put("PATH", System.getenv("PATH"));
    builder
        .environment()
        .put("JODO_KERNEL_URL", "http://127.0.0.1:" + kernel.getAddress().getPort());
    builder.environment().put("JODO_AGENT_TOKEN", TOKEN);
    builder.environment().put("JODO_AGENT_PORT", Integer.toString(port));
    builder.environment().put("JODO_SEED_ATTEMPTS", Integer.toString(attempts));
    builder
        .redirectErrorStream(true)
        .redirectOutput(brain.resolveSibling("seed-output.txt").toFile());
    return builder.start();
  }

  private String output() throws IOException {
    Path out = brain.resolveSibling("seed-output.txt");
    return Files.exists(out) ? Files.readString(out) : "";
  }

  private void answer(HttpExchange exchange, String json) throws IOException {
    String auth = exchange.getRequestHeaders().getFirst("Authorization");
    if (!("Bearer " + TOKEN).equals(auth)) {
      badAuth.add(exchange.getRequestURI() + ": " + auth);
    }
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  /** An answer in the seed's documented format. */
  private static String files(Map<String, String> files) {
    StringBuilder answer = new StringBuilder();
    files.forEach(
        (path, content) ->
            answer
                .append("=== FILE: ")
                .append(path)
                .append(" ===\n")
                .append(content.endsWith("\n") ? content : content + "\n")
                .append("=== END FILE ===\n"));
    return answer.toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
