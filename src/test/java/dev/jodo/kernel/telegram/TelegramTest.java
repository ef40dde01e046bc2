package dev.jodo.kernel.telegram;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import dev.jodo.kernel.testing.fakes.FakeTelegram;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Telegram in both ingest modes, through a real kernel and a fake Bot API over real HTTP. */
class TelegramTest {
  static final String TOKEN = "123456:test-bot-token-secret";
  static final String CONFIG =
      """
      providers:
        openai:
          base_url: "${OPENAI_URL}"
          api_key: "sk-openai-test"
          models:
            gpt-4o-mini: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [chat], quality: 6}
      routing:
        intent_preferences:
          chat: [openai]
      """;

  @TempDir Path temp;
  private DatabaseTarget.External database;
  private FakeProvider openai;
  private FakeTelegram telegram;
  private Kernel kernel;

  @BeforeEach
  void setUp() {
    database = TestPostgres.freshDatabase(TelegramTest.class);
    openai = FakeProvider.openAi("sk-openai-test");
    telegram = new FakeTelegram(TOKEN);
  }

  @AfterEach
  void tearDown() {
    if (kernel != null) {
      kernel.close();
    }
    openai.close();
    telegram.close();
    TestPostgres.drop(database);
  }

  private Kernel start(Map<String, String> extra) {
    Map<String, String> env = new HashMap<>(extra);
    env.put("OPENAI_URL", openai.baseUrl());
    env.put("JODO_TELEGRAM_BOT_TOKEN", TOKEN);
    env.put("JODO_TELEGRAM_API_URL", telegram.apiUrl());
    env.put("JODO_TELEGRAM_POLL_TIMEOUT_S", "1");
    kernel =
        Kernel.start(
            TestConfigs.kernelConfig(temp, database, CONFIG, env), Kernel.Options.defaults());
    return kernel;
  }

  @Test
  void pollingAnswersEachPersonalMessageOnceAndIgnoresGroupsAndStrangers() throws Exception {
    openai.reply("Hello Ada");
    telegram.message(1, 42, "private", 42, "hi");
    telegram.message(2, -100, "group", 42, "hi all");
    telegram.message(3, 43, "private", 43, "let me in");
    start(Map.of("JODO_TELEGRAM_ALLOWED_USERS", "42, 7"));

    awaitTrue(() -> telegram.sent().size() >= 1);
    awaitTrue(() -> telegram.offsetsAsked().contains(4L)); // all three updates were taken
    Thread.sleep(500);
    assertThat(telegram.sent()).containsExactly(new FakeTelegram.Sent(42, "Hello Ada"));
    assertThat(openai.requests()).hasSize(1);
    assertThat(count("SELECT count(*) FROM conversation_runs WHERE conversation_key = '42'"))
        .isEqualTo(1);

    // A long reply comes in parts of 4,096 characters, in order, in the same chat session.
    String longReply = "a".repeat(4096) + "b".repeat(904);
    openai.reply(longReply);
    telegram.message(4, 42, "private", 42, "tell me more");
    awaitTrue(() -> telegram.sent().size() >= 3);
    List<FakeTelegram.Sent> sent = telegram.sent();
    assertThat(sent.get(1).text()).isEqualTo("a".repeat(4096));
    assertThat(sent.get(2).text()).isEqualTo("b".repeat(904));
    assertThat(openai.requests().get(1).body().path("messages").size())
        .as("system, the first exchange, the new message")
        .isEqualTo(4);

    // A restart picks up at the kept offset: nothing is answered twice.
    kernel.close();
    kernel = null;
    int before = telegram.offsetsAsked().size();
    start(Map.of("JODO_TELEGRAM_ALLOWED_USERS", "42"));
    awaitTrue(() -> telegram.offsetsAsked().size() >= before + 2);
    assertThat(telegram.offsetsAsked().subList(before, telegram.offsetsAsked().size()))
        .as("offsets asked after the restart")
        .containsOnly(5L);
    assertThat(telegram.sent()).hasSize(3);
  }

  @Test
  void theSameUpdateDeliveredTwiceMakesOneRunAndOneReply() throws Exception {
    openai.reply("once");
    start(Map.of("JODO_TELEGRAM_INGEST_MODE", "webhook", "JODO_TELEGRAM_WEBHOOK_SECRET", "s3cret"));
    TestHttp http = new TestHttp(kernel.port());
    String update =
        telegram.message(9, 42, "private", 42, "hello").toString(); // used as a webhook body

    TestHttp.Response first =
        http.postWithHeader(
            "/telegram/webhook", null, update, "X-Telegram-Bot-Api-Secret-Token", "s3cret");
    TestHttp.Response again =
        http.postWithHeader(
            "/telegram/webhook", null, update, "X-Telegram-Bot-Api-Secret-Token", "s3cret");
    assertThat(first.status()).isEqualTo(200);
    assertThat(again.status()).isEqualTo(200);
    awaitTrue(() -> !telegram.sent().isEmpty());
    Thread.sleep(500);
    assertThat(telegram.sent()).containsExactly(new FakeTelegram.Sent(42, "once"));
    assertThat(openai.requests()).hasSize(1);
    assertThat(telegram.offsetsAsked()).as("webhook mode does not poll").isEmpty();
  }

  @Test
  void aWebhookCallWithoutTheSecretIsRefusedAndMakesNoRun() throws Exception {
    openai.reply("never");
    start(Map.of("JODO_TELEGRAM_INGEST_MODE", "webhook", "JODO_TELEGRAM_WEBHOOK_SECRET", "s3cret"));
    TestHttp http = new TestHttp(kernel.port());
    String update = telegram.message(5, 42, "private", 42, "sneaky").toString();

    TestHttp.Response wrong =
        http.postWithHeader(
            "/telegram/webhook", null, update, "X-Telegram-Bot-Api-Secret-Token", "guess");
    TestHttp.Response missing = http.post("/telegram/webhook", null, update);

    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.body()).contains("JODO_TELEGRAM_WEBHOOK_SECRET").doesNotContain("s3cret");
    assertThat(missing.status()).isEqualTo(401);
    assertThat(count("SELECT count(*) FROM conversation_runs")).isZero();
  }

  @Test
  void repliesAreSplitAt4096CharactersNeverInsideASurrogatePair() {
    assertThat(TelegramModule.split("short")).containsExactly("short");
    String emoji = "\uD83D\uDE00"; // one character, two Java chars
    String text = "x".repeat(4095) + emoji + "tail";
    List<String> parts = TelegramModule.split(text);
    assertThat(parts).containsExactly("x".repeat(4095), emoji + "tail");
    assertThat(String.join("", TelegramModule.split("y".repeat(9000)))).hasSize(9000);
    assertThat(TelegramModule.split("y".repeat(9000)))
        .extracting(String::length)
        .containsExactly(4096, 4096, 808);
  }

  private long count(String sql) throws Exception {
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("timed out").isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
