package dev.jodo.kernel.telegram;

import com.pengrad.telegrambot.TelegramBot;
import com.pengrad.telegrambot.model.Chat;
import com.pengrad.telegrambot.model.Message;
import com.pengrad.telegrambot.model.Update;
import com.pengrad.telegrambot.request.GetUpdates;
import com.pengrad.telegrambot.request.SendMessage;
import com.pengrad.telegrambot.response.GetUpdatesResponse;
import com.pengrad.telegrambot.response.SendResponse;
import com.pengrad.telegrambot.utility.BotUtils;
import dev.jodo.kernel.platform.config.TelegramConfig;
import dev.jodo.kernel.platform.db.Database;
import dev.jodo.kernel.platform.http.Routes;
import dev.jodo.kernel.runs.RunEvent;
import dev.jodo.kernel.runs.RunsModule;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Telegram ingest (docs/telegram.md): each text message of a personal chat becomes a {@code
 * telegram.message} run, once, and the run's reply goes back to the chat. Updates arrive by long
 * polling (one kernel polls, under an advisory lock; the offset is kept in the database) or by
 * webhook (checked by its secret header).
 */
public final class TelegramModule implements RunsModule.Replies, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TelegramModule.class);

  /** Telegram's limit for one message's text. */
  public static final int MAX_MESSAGE = 4096;

  /** Lock space of the polling lock ("JodT"); the second key is the bot's id. */
  private static final int LOCK_SPACE = 0x4A6F6454;

  static final Duration RETRY = Duration.ofSeconds(5);

  private final TelegramConfig config;
  private final Database database;
  private final RunsModule runs;
  private final TelegramBot bot;
  private final long botId;
  private final CountDownLatch closed = new CountDownLatch(1);
  private Thread poller;

  public TelegramModule(TelegramConfig config, Database database, RunsModule runs) {
    this.config = config;
    this.database = database;
    this.runs = runs;
    this.bot =
        new TelegramBot.Builder(config.botToken().value()).apiUrl(config.apiUrl() + "/bot").build();
    String token = config.botToken().value();
    long id;
    try {
      id = Long.parseLong(token.substring(0, Math.max(0, token.indexOf(':'))));
    } catch (NumberFormatException e) {
      id = token.hashCode();
    }
    this.botId = id;
  }

  /** Starts polling, in polling mode. */
  public void start() {
    if (config.mode() == TelegramConfig.Mode.POLLING) {
      poller = Thread.ofVirtual().name("jodo-telegram-poller").start(this::poll);
      log.info("telegram: polling for updates");
    } else {
      log.info("telegram: taking updates at the webhook {}", config.webhookPath());
    }
  }

  /** The webhook route, in webhook mode (open: its secret header is the check). */
  public List<Routes> routes() {
    if (config.mode() != TelegramConfig.Mode.WEBHOOK) {
      return List.of();
    }
    return List.of(
        routes ->
            routes.post(
                config.webhookPath(),
                ctx -> {
                  if (config.webhookSecret().isPresent()
                      && !same(
                          ctx.header("X-Telegram-Bot-Api-Secret-Token"),
                          config.webhookSecret().get().value())) {
                    ctx.status(401)
                        .json(
                            Map.of(
                                "error",
                                "unauthorized",
                                "message",
                                "the X-Telegram-Bot-Api-Secret-Token header does not match"
                                    + " JODO_TELEGRAM_WEBHOOK_SECRET"));
                    return;
                  }
                  Update update;
                  try {
                    update = BotUtils.parseUpdate(ctx.body());
                  } catch (RuntimeException e) {
                    ctx.status(400)
                        .json(
                            Map.of("error", "invalid_update", "message", "not a Telegram update"));
                    return;
                  }
                  if (update == null || update.updateId() == null) {
                    ctx.status(400)
                        .json(Map.of("error", "invalid_update", "message", "no update_id"));
                    return;
                  }
                  accept(update, ctx.body());
                  ctx.json(Map.of("ok", true));
                }));
  }

  /** Makes one update a run, unless it is to be ignored; the same update twice makes one run. */
  void accept(Update update, String raw) {
    int id = update.updateId();
    Message message = update.message();
    if (message == null || message.text() == null) {
      log.info("telegram update {} ignored: not a text message", id);
      return;
    }
    if (message.chat() == null || message.chat().type() != Chat.Type.Private) {
      log.info("telegram update {} ignored: not a personal chat", id);
      return;
    }
    long from = message.from() == null ? 0 : message.from().id();
    if (!config.allowedUsers().isEmpty() && !config.allowedUsers().contains(from)) {
      log.info(
          "telegram update {} ignored: user {} is not in JODO_TELEGRAM_ALLOWED_USERS", id, from);
      return;
    }
    String runId =
        runs.submit(
            new RunEvent(
                1,
                "telegram.message",
                String.valueOf(message.chat().id()),
                String.valueOf(from),
                message.text(),
                raw),
            Optional.of("telegram:" + botId + ":" + id));
    log.info("telegram update {} is run {}", id, runId);
  }

  /** Sends {@code text} to the chat, in parts of at most 4,096 characters, in order. */
  @Override
  public void send(String chatId, String text) {
    long chat = Long.parseLong(chatId);
    for (String part : split(text.isEmpty() ? "…" : text)) {
      SendResponse sent = bot.execute(new SendMessage(chat, part));
      if (!sent.isOk()) {
        throw new IllegalStateException(
            "Telegram refused the reply: " + sent.errorCode() + " " + sent.description());
      }
    }
  }

  /** {@code text} in parts of at most {@link #MAX_MESSAGE} characters, never inside a pair. */
  static List<String> split(String text) {
    List<String> parts = new ArrayList<>();
    int start = 0;
    while (text.length() - start > MAX_MESSAGE) {
      int end = start + MAX_MESSAGE;
      if (Character.isHighSurrogate(text.charAt(end - 1))) {
        end--;
      }
      parts.add(text.substring(start, end));
      start = end;
    }
    parts.add(text.substring(start));
    return parts;
  }

  private void poll() {
    while (closed.getCount() > 0) {
      try (Connection lock = database.openDedicated("jodo-telegram")) {
        if (!tryLock(lock)) {
          pause(RETRY);
          continue;
        }
        log.info("telegram: this kernel polls");
        while (closed.getCount() > 0) {
          long offset = offset();
          GetUpdatesResponse response =
              bot.execute(
                  new GetUpdates()
                      .offset((int) offset)
                      .timeout(config.pollTimeoutSeconds())
                      .allowedUpdates("message"));
          if (!response.isOk() || response.updates() == null) {
            log.warn(
                "telegram: getUpdates failed ({} {}); trying again in {} s",
                response.errorCode(),
                response.description(),
                RETRY.toSeconds());
            pause(RETRY);
            continue;
          }
          for (Update update : response.updates()) {
            accept(update, BotUtils.GSON.toJson(update));
            keepOffset(update.updateId() + 1L);
          }
        }
      } catch (RuntimeException | SQLException e) {
        if (closed.getCount() > 0) {
          log.warn(
              "telegram: polling failed ({}); trying again in {} s", redact(e), RETRY.toSeconds());
          pause(RETRY);
        }
      }
    }
  }

  private boolean tryLock(Connection connection) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
      ps.setInt(1, LOCK_SPACE);
      ps.setInt(2, Long.hashCode(botId));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private long offset() throws SQLException {
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT next_offset FROM telegram_offsets WHERE bot_id = ?")) {
      ps.setLong(1, botId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  private void keepOffset(long next) {
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO telegram_offsets (bot_id, next_offset) VALUES (?, ?)"
                    + " ON CONFLICT (bot_id) DO UPDATE SET next_offset = EXCLUDED.next_offset,"
                    + " updated_at = now()")) {
      ps.setLong(1, botId);
      ps.setLong(2, next);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot keep the Telegram offset: " + e.getMessage(), e);
    }
  }

  /** The error without the bot token (a Bot API URL holds it). */
  private String redact(Exception e) {
    String text = e.getClass().getSimpleName() + ": " + e.getMessage();
    return text.replace(config.botToken().value(), "<token>");
  }

  private void pause(Duration duration) {
    try {
      closed.await(duration.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean same(String given, String expected) {
    return given != null
        && MessageDigest.isEqual(
            given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    closed.countDown();
    if (poller != null) {
      poller.interrupt();
      try {
        poller.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    bot.shutdown();
  }
}
