package dev.jodo.kernel.platform.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.testing.TestHttp;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HttpServerTest {

  @Test
  void stopDrainsInFlightRequestsAndRefusesNewOnes() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    Routes slow =
        routes ->
            routes.get(
                "/slow",
                ctx -> {
                  entered.countDown();
                  Thread.sleep(1500);
                  ctx.json(Map.of("done", true));
                });
    // No database is needed: the open route never consults the token service.
    TokenService tokens = new TokenService(null, Optional.empty());
    HttpServer server =
        new HttpServer(
                "127.0.0.1",
                0,
                Duration.ofSeconds(10),
                tokens,
                new SimpleMeterRegistry(),
                Json.newMapper(),
                List.of(slow))
            .start();
    TestHttp http = new TestHttp(server.port());
    CompletableFuture<TestHttp.Response> inFlight =
        CompletableFuture.supplyAsync(() -> http.get("/slow", null));
    assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();

    server.stop();

    TestHttp.Response response = inFlight.get(10, TimeUnit.SECONDS);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().path("done").asBoolean()).isTrue();
    assertThatThrownBy(() -> http.get("/slow", null)).isInstanceOf(UncheckedIOException.class);
  }

  @Test
  void unexpectedErrorsAre500WithoutAStackTrace() {
    Routes failing =
        routes ->
            routes.get(
                "/boom",
                ctx -> {
                  throw new IllegalStateException("secret internal detail");
                });
    HttpServer server =
        new HttpServer(
                "127.0.0.1",
                0,
                Duration.ofSeconds(1),
                new TokenService(null, Optional.empty()),
                new SimpleMeterRegistry(),
                Json.newMapper(),
                List.of(failing))
            .start();
    try {
      TestHttp.Response response = new TestHttp(server.port()).get("/boom", null);
      assertThat(response.status()).isEqualTo(500);
      assertThat(response.errorCode()).isEqualTo("internal_error");
      assertThat(response.errorMessage())
          .startsWith("the kernel failed to handle this request; request id ");
      assertThat(response.body())
          .doesNotContain("secret internal detail")
          .doesNotContain("at dev.");
    } finally {
      server.stop();
    }
  }
}
