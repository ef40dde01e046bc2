package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jodo.kernel.testing.TestHttp;
import java.time.Duration;

/** Posting events to a test kernel and waiting for their runs. */
final class TestRuns {
  private TestRuns() {}

  /** Posts an event (user_key "UTC") and returns its run id; asserts the 202. */
  static String post(TestHttp http, String admin, String type, String conversation, String text) {
    TestHttp.Response accepted =
        http.post(
            "/v1/events",
            admin,
            "{\"schema_version\":1,\"type\":\""
                + type
                + "\",\"conversation_key\":\""
                + conversation
                + "\",\"user_key\":\"UTC\",\"text\":\""
                + text
                + "\"}");
    assertThat(accepted.status()).as(accepted.body()).isEqualTo(202);
    return accepted.json().path("run_id").asText();
  }

  /** The run once it has succeeded or failed (within 60 s). */
  static JsonNode finished(TestHttp http, String admin, String runId) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      JsonNode run = http.get("/v1/runs/" + runId, admin).json();
      String status = run.path("status").asText();
      if (status.equals("succeeded") || status.equals("failed")) {
        return run;
      }
      assertThat(System.nanoTime()).as("run " + runId + " still " + status).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
