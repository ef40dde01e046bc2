package dev.jodo.kernel.gateway;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** What a call is for; seed 000's routing keys. Only {@link #REPAIR} may spend the reserve. */
public enum Intent {
  CODE,
  CHAT,
  QUICK,
  REPAIR,
  EMBED;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Intent> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    String wanted = text.trim().toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(i -> i.wire().equals(wanted)).findFirst();
  }

  /** "code, chat, quick, repair" (and embed when {@code withEmbed}), for messages. */
  public static String valid(boolean withEmbed) {
    return Arrays.stream(values())
        .filter(i -> withEmbed || i != EMBED)
        .map(Intent::wire)
        .collect(Collectors.joining(", "));
  }
}
