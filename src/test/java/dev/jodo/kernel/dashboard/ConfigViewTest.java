package dev.jodo.kernel.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ConfigViewTest {
  private static final String KEY = "s3cr3t-Value_123";

  @Test
  void credentialsInsidePlainStringsAreMasked() {
    assertThat(ConfigView.scrub("https://jodo:" + KEY + "@llm.example.com/v1"))
        .isEqualTo("https://****@llm.example.com/v1");
    assertThat(ConfigView.scrub("https://llm.example.com/v1?key=" + KEY + "&region=eu#top"))
        .isEqualTo("https://llm.example.com/v1?****#top");
    assertThat(ConfigView.scrub("jdbc:postgresql://db:5432/jodo?user=jodo&password=" + KEY))
        .isEqualTo("jdbc:postgresql://db:5432/jodo?****");
    assertThat(ConfigView.scrub("python3 agent.py --api-key=" + KEY + " --port 8080"))
        .isEqualTo("python3 agent.py --api-key=**** --port 8080");
    assertThat(ConfigView.scrub("python3 agent.py --token " + KEY + " --verbose"))
        .isEqualTo("python3 agent.py --token **** --verbose");
    assertThat(ConfigView.scrub("OPENAI_API_KEY=" + KEY + " node brain.js"))
        .isEqualTo("OPENAI_API_KEY=**** node brain.js");
    assertThat(ConfigView.scrub("curl -H 'Authorization: Bearer " + KEY + "' http://x"))
        .doesNotContain(KEY)
        .endsWith("' http://x");
    assertThat(ConfigView.scrub("curl -u jodo -H \"Authorization: Basic " + KEY + "\""))
        .doesNotContain(KEY);
    assertThat(ConfigView.scrub("/health?token=" + KEY)).isEqualTo("/health?token=****");
  }

  @Test
  void credentialsInOtherShapesAreMaskedToo() {
    for (String leaky :
        new String[] {
          "curl -u jodo:" + KEY + " http://x",
          "curl --user jodo:" + KEY + " http://x",
          "curl -H 'Authorization: token " + KEY + "' http://x",
          "curl -H \"Authorization: Bot " + KEY + "\" http://x",
          "agent --password=ab," + KEY,
          "agent --password \"two " + KEY + "\"",
          "{\"api_key\":\"" + KEY + "\"}",
          "password:" + KEY,
          "X-Api-Key:" + KEY,
          "agent --pass " + KEY,
          "agent --auth " + KEY,
          "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe",
          "https://hooks.slack.com/services/T00000000/B00000000/XXXXxxxxXXXX1111xxxxXXXX",
          "agent sk-proj-" + KEY,
          "agent 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
          "https://jodo:p@ss" + KEY + "@host/v1"
        }) {
      assertThat(ConfigView.scrub(leaky))
          .as(leaky)
          .doesNotContain(KEY)
          .doesNotContain("1111")
          .doesNotContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
          .doesNotContain("9f86d0818");
    }
  }

  @Test
  void aLongRunOfNameLikeTextDoesNotStallTheScrub() {
    String keys = "keykey".repeat(5_000) + "=value " + "--token".repeat(2_000);
    // Before the quantifiers were bounded this took minutes (cubic backtracking).
    String scrubbed =
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> ConfigView.scrub(keys));
    assertThat(scrubbed).doesNotContain("=value");
  }

  @Test
  void ordinaryValuesStayReadable() {
    for (String plain :
        new String[] {
          "https://oauth.example.com:8443/v1",
          "http://127.0.0.1:11434",
          "python3 -m jodo_agent --port 8080 --verbose",
          "/telegram/webhook",
          "gpt-4o-mini",
          "claude-3-5-sonnet-20241022",
          "text-embedding-3-small",
          "keycloak.local:8080",
          "/home/jodo/agents/jodo/brain",
          "0.0.0.0"
        }) {
      assertThat(ConfigView.scrub(plain)).as(plain).isEqualTo(plain);
    }
  }
}
