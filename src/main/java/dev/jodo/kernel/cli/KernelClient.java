package dev.jodo.kernel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.auth.AdminTokenFile;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * The CLI's way to the running kernel: {@code JODO_URL} (default: this machine's kernel from the
 * config) with {@code JODO_ADMIN_TOKEN} or the admin token kept under {@code JODO_HOME}.
 */
final class KernelClient {
  /** The kernel did not answer at all. */
  static final class Unreachable extends Exception {
    private static final long serialVersionUID = 1L;

    Unreachable(String message) {
      super(message);
    }
  }

  record Answer(int status, JsonNode body) {
    String error() {
      JsonNode message = body.path("error").path("message");
      return message.isMissingNode() ? body.toString() : message.asText();
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final String base;
  private final Optional<Secret> token;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  KernelClient(CliContext context, KernelConfig config) {
    String url = context.env().get("JODO_URL");
    this.base =
        url == null || url.isBlank() ? config.localBaseUrl() : url.strip().replaceAll("/+$", "");
    this.token = config.adminToken().or(() -> new AdminTokenFile(config.home()).read());
  }

  String base() {
    return base;
  }

  Answer get(String path) throws Unreachable, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  Answer post(String path, JsonNode body) throws Unreachable, InterruptedException {
    return send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
  }

  private Answer send(HttpRequest.Builder request) throws Unreachable, InterruptedException {
    token.ifPresent(t -> request.header("Authorization", "Bearer " + t.value()));
    try {
      HttpResponse<String> response =
          http.send(
              request.timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode body;
      try {
        body = response.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(response.body());
      } catch (IOException e) {
        body = JSON.createObjectNode().put("error", response.body());
      }
      return new Answer(response.statusCode(), body);
    } catch (IOException e) {
      throw new Unreachable(
          "the kernel is not running at "
              + base
              + " ("
              + e.getClass().getSimpleName()
              + "); start it with `jodo up`");
    }
  }
}
