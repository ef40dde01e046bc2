package dev.jodo.kernel.gateway;

import dev.jodo.kernel.platform.config.ModelConfig;
import dev.jodo.kernel.platform.config.ProviderConfig;
import dev.jodo.kernel.platform.config.RoutingConfig;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns an intent (or a concrete model) into the ordered candidates of seed 000's {@code
 * best_affordable} strategy: the intent's providers in preference order, each one's capable models
 * by quality (then price); then every other enabled provider's capable models, cheapest first, as
 * the fallback. Affordability itself is decided atomically by the {@link BudgetLedger}.
 */
final class Router {
  private final Map<String, ProviderConfig> providers;
  private final RoutingConfig routing;

  Router(Map<String, ProviderConfig> providers, RoutingConfig routing) {
    this.providers = providers;
    this.routing = routing;
  }

  /** The candidates in order, and why each excluded provider cannot serve. */
  record Plan(List<Candidate> candidates, List<String> excluded) {}

  Plan forIntent(Intent intent, long inputTokens, int maxTokens) {
    List<Candidate> candidates = new ArrayList<>();
    List<String> excluded = new ArrayList<>();
    Set<String> listed = new LinkedHashSet<>(routing.preferencesFor(intent.wire()));
    for (String name : listed) {
      ProviderConfig provider = providers.get(name);
      List<Candidate> own = candidatesOf(provider, intent, inputTokens, maxTokens, excluded);
      own.sort(
          Comparator.comparingInt((Candidate c) -> -c.model().quality())
              .thenComparing(Candidate::worstCase));
      candidates.addAll(own);
    }
    List<Candidate> fallback = new ArrayList<>();
    for (ProviderConfig provider : providers.values()) {
      if (!listed.contains(provider.name()) && provider.enabled()) {
        fallback.addAll(candidatesOf(provider, intent, inputTokens, maxTokens, new ArrayList<>()));
      }
    }
    fallback.sort(Comparator.comparing(Candidate::worstCase));
    candidates.addAll(fallback);
    return new Plan(candidates, excluded);
  }

  /** The provider that owns {@code model}; the budget rules of {@code intent} apply. */
  Optional<Plan> forModel(String model, Intent intent, long inputTokens, int maxTokens) {
    for (ProviderConfig provider : providers.values()) {
      ModelConfig config = provider.models().get(model);
      if (config == null) {
        continue;
      }
      List<String> excluded = new ArrayList<>();
      if (!provider.enabled()) {
        excluded.add(provider.name() + ": disabled (" + provider.disabledReason().orElse("") + ")");
        return Optional.of(new Plan(List.of(), excluded));
      }
      if (tooLong(config, maxTokens)) {
        excluded.add(limitReason(provider, config));
        return Optional.of(new Plan(List.of(), excluded));
      }
      return Optional.of(
          new Plan(List.of(candidate(provider, config, intent, inputTokens, maxTokens)), excluded));
    }
    return Optional.empty();
  }

  /** Every configured model name with the provider that owns it. */
  Map<String, ProviderConfig> providers() {
    return providers;
  }

  private List<Candidate> candidatesOf(
      ProviderConfig provider,
      Intent intent,
      long inputTokens,
      int maxTokens,
      List<String> excluded) {
    List<Candidate> result = new ArrayList<>();
    if (provider == null) {
      return result;
    }
    if (!provider.enabled()) {
      excluded.add(provider.name() + ": disabled (" + provider.disabledReason().orElse("") + ")");
      return result;
    }
    List<ModelConfig> capable = capableModels(provider, intent);
    if (capable.isEmpty()) {
      excluded.add(provider.name() + ": no model with capability '" + intent.wire() + "'");
      return result;
    }
    for (ModelConfig model : capable) {
      if (tooLong(model, maxTokens)) {
        excluded.add(limitReason(provider, model));
      } else {
        result.add(candidate(provider, model, intent, inputTokens, maxTokens));
      }
    }
    return result;
  }

  /**
   * Models that list the intent as a capability. A provider the user listed for an intent but whose
   * models name no such capability (seed 000 lists openai for quick and repair, yet gives
   * gpt-4o-mini only [code, chat]) serves it with its chat or code models; embeddings need an embed
   * model.
   */
  private static List<ModelConfig> capableModels(ProviderConfig provider, Intent intent) {
    List<ModelConfig> exact =
        provider.models().values().stream()
            .filter(m -> m.capabilities().contains(intent.wire()))
            .toList();
    if (!exact.isEmpty() || intent == Intent.EMBED) {
      return exact;
    }
    return provider.models().values().stream()
        .filter(m -> m.capabilities().contains("chat") || m.capabilities().contains("code"))
        .toList();
  }

  private static Candidate candidate(
      ProviderConfig provider, ModelConfig model, Intent intent, long inputTokens, int maxTokens) {
    BigDecimal worstCase = Pricing.worstCase(model, inputTokens, maxTokens);
    if (model.isFree()) {
      return new Candidate(provider, model, worstCase, Optional.empty());
    }
    BigDecimal limit =
        intent == Intent.REPAIR
            ? provider.monthlyBudget()
            : provider.monthlyBudget().subtract(provider.emergencyReserve());
    return new Candidate(provider, model, worstCase, Optional.of(limit.max(BigDecimal.ZERO)));
  }

  private static boolean tooLong(ModelConfig model, int maxTokens) {
    return model.maxOutputTokens().isPresent() && maxTokens > model.maxOutputTokens().getAsInt();
  }

  private static String limitReason(ProviderConfig provider, ModelConfig model) {
    return provider.name()
        + "/"
        + model.name()
        + ": max_tokens is above its limit of "
        + model.maxOutputTokens().getAsInt();
  }
}
