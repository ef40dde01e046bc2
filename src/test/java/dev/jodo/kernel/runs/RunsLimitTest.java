package dev.jodo.kernel.runs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code runs.max_concurrent}: different conversations overlap, but no more than that many. */
class RunsLimitTest {
  @TempDir Path temp;

  @Test
  void sixConversationsRunTwoAtATimeUnderALimitOfTwo() throws Exception {
    DatabaseTarget.External database = TestPostgres.freshDatabase(RunsLimitTest.class);
    try (FakeProvider openai = FakeProvider.openAi("sk-openai-test");
        Kernel kernel =
            Kernel.start(
                TestConfigs.kernelConfig(
                    temp,
                    database,
                    RunsApiTest.CONFIG + "runs: {max_concurrent: 2}\n",
                    Map.of("OPENAI_URL", openai.baseUrl())),
                Kernel.Options.defaults())) {
      openai.reply("ok").delay(Duration.ofMillis(400));
      String admin = kernel.firstBootAdminToken().orElseThrow().value();
      TestHttp http = new TestHttp(kernel.port());
      List<String> runs = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        runs.add(
            http.post(
                    "/v1/events",
                    admin,
                    "{\"schema_version\":1,\"type\":\"message\",\"conversation_key\":\"limit-"
                        + i
                        + "\",\"text\":\"t\"}")
                .json()
                .path("run_id")
                .asText());
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      for (String run : runs) {
        while (!http.get("/v1/runs/" + run, admin)
                .json()
                .path("status")
                .asText()
                .equals("succeeded")
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(http.get("/v1/runs/" + run, admin).json().path("status").asText())
            .isEqualTo("succeeded");
      }
      assertThat(openai.maxInFlight()).isEqualTo(2);
    } finally {
      TestPostgres.drop(database);
    }
  }
}
