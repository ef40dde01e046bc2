package dev.jodo.kernel.gateway;

import java.util.Optional;

/**
 * How a call picks its provider: a concrete {@code model} goes to the provider that owns it; else
 * the {@code intent}'s preference order. The intent also decides whether the emergency reserve may
 * be spent (repair only).
 */
public record Route(Intent intent, Optional<String> model) {
  public static Route of(Intent intent) {
    return new Route(intent, Optional.empty());
  }

  public static Route model(String model, Intent intent) {
    return new Route(intent, Optional.of(model));
  }
}
