package dev.jodo.kernel.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

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
  void ordinaryValuesStayReadable() {
    for (String plain :
        new String[] {
          "https://oauth.example.com:8443/v1",
          "http://127.0.0.1:11434",
          "python3 -m jodo_agent --port 8080 --verbose",
          "/telegram/webhook",
          "gpt-4o-mini",
          "0.0.0.0"
        }) {
      assertThat(ConfigView.scrub(plain)).as(plain).isEqualTo(plain);
    }
  }
}
