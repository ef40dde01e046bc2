package dev.jodo.kernel.platform.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Telegram ingest (seed 001, issue 7), from the environment: on when {@code
 * JODO_TELEGRAM_BOT_TOKEN} is set. {@code allowedUsers} empty means everyone who writes to the bot
 * in a personal chat; {@code pollTimeoutSeconds} is the long poll's wait.
 */
public record TelegramConfig(
    Secret botToken,
    Mode mode,
    String webhookPath,
    Optional<Secret> webhookSecret,
    String apiUrl,
    Set<Long> allowedUsers,
    int pollTimeoutSeconds) {

  public enum Mode {
    POLLING,
    WEBHOOK
  }

  /** The settings in {@code env}, or empty when there is no bot token; problems are added. */
  static Optional<TelegramConfig> read(Map<String, String> env, List<ConfigProblem> problems) {
    String token = env.getOrDefault("JODO_TELEGRAM_BOT_TOKEN", "").strip();
    if (token.isEmpty()) {
      return Optional.empty();
    }
    Mode mode = Mode.POLLING;
    String modeText = env.getOrDefault("JODO_TELEGRAM_INGEST_MODE", "polling").strip();
    switch (modeText) {
      case "polling", "" -> mode = Mode.POLLING;
      case "webhook" -> mode = Mode.WEBHOOK;
      default ->
          problems.add(
              new ConfigProblem(
                  "environment",
                  "JODO_TELEGRAM_INGEST_MODE",
                  "'" + modeText + "' is not a mode; use polling or webhook"));
    }
    String path = env.getOrDefault("JODO_TELEGRAM_WEBHOOK_PATH", "/telegram/webhook").strip();
    if (!path.startsWith("/") || path.length() < 2) {
      problems.add(
          new ConfigProblem(
              "environment",
              "JODO_TELEGRAM_WEBHOOK_PATH",
              "'" + path + "' is not a path; use one like /telegram/webhook"));
    }
    Optional<Secret> secret =
        Optional.ofNullable(env.get("JODO_TELEGRAM_WEBHOOK_SECRET"))
            .map(String::strip)
            .filter(s -> !s.isEmpty())
            .map(Secret::new);
    String apiUrl =
        env.getOrDefault("JODO_TELEGRAM_API_URL", "https://api.telegram.org")
            .strip()
            .replaceAll("/+$", "");
    Set<Long> allowed = new TreeSet<>();
    List<String> bad = new ArrayList<>();
    for (String id : env.getOrDefault("JODO_TELEGRAM_ALLOWED_USERS", "").split(",")) {
      if (!id.isBlank()) {
        try {
          allowed.add(Long.parseLong(id.strip()));
        } catch (NumberFormatException e) {
          bad.add(id.strip());
        }
      }
    }
    if (!bad.isEmpty()) {
      problems.add(
          new ConfigProblem(
              "environment",
              "JODO_TELEGRAM_ALLOWED_USERS",
              "'"
                  + String.join(", ", bad)
                  + "' is not a Telegram user id; list numeric ids, comma-separated"));
    }
    int timeout = 25;
    String timeoutText = env.getOrDefault("JODO_TELEGRAM_POLL_TIMEOUT_S", "25").strip();
    try {
      timeout = Integer.parseInt(timeoutText);
      if (timeout < 0 || timeout > 50) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      problems.add(
          new ConfigProblem(
              "environment",
              "JODO_TELEGRAM_POLL_TIMEOUT_S",
              "'" + timeoutText + "' is out of range; use 0 to 50 seconds"));
    }
    return Optional.of(
        new TelegramConfig(
            new Secret(token), mode, path, secret, apiUrl, Set.copyOf(allowed), timeout));
  }
}
