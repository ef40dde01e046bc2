package dev.jodo.kernel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.platform.config.ConfigLoader;
import dev.jodo.kernel.platform.config.KernelConfig;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Routing over the repository's own configs/config.yaml, with every provider enabled. */
class RouterTest {
  @TempDir Path temp;

  private Router seedRouter(Map<String, String> keys) {
    Map<String, String> env = new java.util.HashMap<>(keys);
    env.put("JODO_CONFIG_DIR", Path.of("configs").toAbsolutePath().toString());
    env.put("JODO_HOME", temp.toString());
    KernelConfig config = new ConfigLoader(env).load();
    return new Router(config.providers(), config.routing());
  }

  private static List<String> labels(Router.Plan plan) {
    return plan.candidates().stream().map(Candidate::label).toList();
  }

  @Test
  void everyIntentFollowsSeedPreferencesThenTheCheapestOthers() {
    Router router = seedRouter(Map.of("CLAUDE_API_KEY", "k1", "OPENAI_API_KEY", "k2"));
    assertThat(labels(router.forIntent(Intent.CODE, 100, 1000)))
        .containsExactly("claude/claude-sonnet-4-20250514", "openai/gpt-4o-mini", "ollama/llama3");
    assertThat(labels(router.forIntent(Intent.CHAT, 100, 1000)))
        .containsExactly("openai/gpt-4o-mini", "ollama/llama3", "claude/claude-sonnet-4-20250514");
    assertThat(labels(router.forIntent(Intent.QUICK, 100, 1000)))
        // ollama lists quick; openai is listed for quick and serves it with its chat model;
        // claude, not listed, is the last resort.
        .containsExactly("ollama/llama3", "openai/gpt-4o-mini", "claude/claude-sonnet-4-20250514");
    assertThat(labels(router.forIntent(Intent.REPAIR, 100, 1000)))
        .containsExactly("claude/claude-sonnet-4-20250514", "openai/gpt-4o-mini", "ollama/llama3");
    Router.Plan embed = router.forIntent(Intent.EMBED, 100, 0);
    assertThat(embed.candidates()).isEmpty();
    assertThat(embed.excluded())
        .containsExactly(
            "ollama: no model with capability 'embed'", "openai: no model with capability 'embed'");
  }

  @Test
  void onlyRepairMaySpendTheEmergencyReserve() {
    Router router = seedRouter(Map.of("CLAUDE_API_KEY", "k1", "OPENAI_API_KEY", "k2"));
    Candidate code = router.forIntent(Intent.CODE, 100, 1000).candidates().get(0);
    Candidate repair = router.forIntent(Intent.REPAIR, 100, 1000).candidates().get(0);
    assertThat(code.limit().orElseThrow()).isEqualByComparingTo(new BigDecimal("18"));
    assertThat(repair.limit().orElseThrow()).isEqualByComparingTo(new BigDecimal("20"));
    Candidate ollama = router.forIntent(Intent.CODE, 100, 1000).candidates().get(2);
    assertThat(ollama.limit()).isEmpty();
  }

  @Test
  void worstCaseCostUsesTheInputBoundAndMaxTokens() {
    Router router = seedRouter(Map.of("CLAUDE_API_KEY", "k1", "OPENAI_API_KEY", "k2"));
    Candidate claude = router.forIntent(Intent.CODE, 450, 2000).candidates().get(0);
    // 450 x $3/M + 2000 x $15/M = 0.00135 + 0.03 = 0.03135
    assertThat(claude.worstCase()).isEqualByComparingTo("0.031350");
  }

  @Test
  void disabledProvidersAreExcludedWithTheirReason() {
    Router router = seedRouter(Map.of());
    Router.Plan plan = router.forIntent(Intent.CODE, 100, 1000);
    assertThat(labels(plan)).containsExactly("ollama/llama3");
    assertThat(plan.excluded())
        .containsExactly(
            "claude: disabled (its API key variable CLAUDE_API_KEY is not set)",
            "openai: disabled (its API key variable OPENAI_API_KEY is not set)");
  }

  @Test
  void higherQualityComesFirstWithinAProvider() {
    var cheap = GatewayFixtures.model("haiku", "1", "5", 6, "code");
    var best = GatewayFixtures.model("opus", "15", "75", 10, "code");
    var claude =
        GatewayFixtures.provider(
            "claude",
            dev.jodo.kernel.platform.config.ProviderType.ANTHROPIC,
            "20",
            "2",
            cheap,
            best);
    Router router =
        new Router(
            Map.of("claude", claude),
            new dev.jodo.kernel.platform.config.RoutingConfig(
                "best_affordable", Map.of("code", List.of("claude"))));
    assertThat(labels(router.forIntent(Intent.CODE, 10, 10)))
        .containsExactly("claude/opus", "claude/haiku");
  }

  @Test
  void concreteModelRoutesToItsProvider() {
    Router router = seedRouter(Map.of("CLAUDE_API_KEY", "k1", "OPENAI_API_KEY", "k2"));
    assertThat(router.forModel("gpt-4o-mini", Intent.CHAT, 10, 10).map(RouterTest::labels))
        .contains(List.of("openai/gpt-4o-mini"));
    assertThat(router.forModel("no-such-model", Intent.CHAT, 10, 10)).isEmpty();
  }

  @Test
  void pricingRoundsReservationsUpAndSettlementsHalfUp() {
    var model = GatewayFixtures.model("m", "0.15", "0.60", 5, "chat");
    // 7 x 0.15 + 3 x 0.60 = 2.85 per million → 0.00000285
    assertThat(Pricing.worstCase(model, 7, 3)).isEqualByComparingTo("0.000003");
    assertThat(Pricing.actual(model, 7, 3)).isEqualByComparingTo("0.000003");
    assertThat(Pricing.actual(model, 1, 0)).isEqualByComparingTo("0.000000");
    assertThat(Pricing.worstCase(model, 1, 0)).isEqualByComparingTo("0.000001");
    var sonnet = GatewayFixtures.model("s", "3.00", "15.00", 9, "code");
    assertThat(Pricing.actual(sonnet, 450, 1200)).isEqualByComparingTo("0.019350");
  }

  @Test
  void inputBoundCountsUtf8BytesAsTheEncoderDoes() {
    for (String text : List.of("", "plain ascii", "ünïcödé", "日本語のテキスト", "emoji 😀 and 𝄞")) {
      assertThat(TokenCounts.bytes(text))
          .as(text)
          .isEqualTo(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }
  }
}
