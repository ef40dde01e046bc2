package dev.jodo.kernel.platform.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code routing:}: strategy and per-intent provider order; every name must be a provider. */
final class RoutingSection {
  private RoutingSection() {}

  static RoutingConfig read(
      ConfigNode section, Map<String, ProviderConfig> providers, List<ConfigProblem> problems) {
    section.allowOnly(Set.of("strategy", "intent_preferences"));
    String strategy =
        section.choice("strategy", "best_affordable", Map.of("best_affordable", "best_affordable"));
    Map<String, List<String>> preferences = new LinkedHashMap<>();
    ConfigNode intents = section.object("intent_preferences");
    intents.allowOnly(RoutingConfig.INTENTS);
    for (String intent : RoutingConfig.INTENTS) {
      if (!intents.has(intent)) {
        continue;
      }
      List<String> names =
          intents.stringList(
              intent,
              providers::containsKey,
              "name a provider from the providers section ("
                  + String.join(", ", providers.keySet())
                  + ")");
      preferences.put(intent, names);
    }
    return new RoutingConfig(strategy, preferences);
  }
}
