package dev.jodo.kernel.platform.config;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Seed 000's {@code routing}: for each intent, the providers to try in order. */
public record RoutingConfig(String strategy, Map<String, List<String>> intentPreferences) {
  public static final Set<String> INTENTS = Set.of("code", "chat", "quick", "repair", "embed");
  public static final Set<String> STRATEGIES = Set.of("best_affordable");

  public RoutingConfig {
    intentPreferences = Map.copyOf(intentPreferences);
  }

  public List<String> preferencesFor(String intent) {
    return intentPreferences.getOrDefault(intent, List.of());
  }
}
