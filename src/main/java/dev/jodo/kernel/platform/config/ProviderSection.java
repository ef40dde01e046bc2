package dev.jodo.kernel.platform.config;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/** {@code providers:}: each provider's wire type, endpoint, key, models, budget and limits. */
final class ProviderSection {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,49}");
  private static final Pattern CAPABILITY = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
  private static final Set<String> PROVIDER_KEYS =
      Set.of(
          "type",
          "base_url",
          "api_key",
          "models",
          "monthly_budget",
          "emergency_reserve",
          "timeout_seconds",
          "connect_timeout_seconds",
          "max_concurrency",
          "queue_timeout_seconds");
  private static final Set<String> MODEL_KEYS =
      Set.of(
          "input_cost_per_1m_tokens",
          "output_cost_per_1m_tokens",
          "capabilities",
          "quality",
          "max_output_tokens");
  private static final Map<String, ProviderType> TYPES =
      Map.of(
          "anthropic", ProviderType.ANTHROPIC,
          "openai", ProviderType.OPENAI,
          "ollama", ProviderType.OLLAMA);

  private ProviderSection() {}

  static Map<String, ProviderConfig> read(
      ConfigNode section, List<ConfigProblem> problems, List<String> warnings) {
    Map<String, ProviderConfig> providers = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigNode> entry : section.entries().entrySet()) {
      String name = entry.getKey();
      ConfigNode node = entry.getValue();
      if (!NAME.matcher(name).matches()) {
        section.problem(
            name,
            "is not a valid provider name; use lowercase letters, digits, '-', '_' or '.' (at most 50)");
        continue;
      }
      readProvider(name, node, warnings).ifPresent(p -> providers.put(name, p));
    }
    return providers;
  }

  private static Optional<ProviderConfig> readProvider(
      String name, ConfigNode node, List<String> warnings) {
    node.allowOnly(PROVIDER_KEYS);
    ProviderType inferred = ProviderType.inferFromName(name).orElse(null);
    ProviderType type = node.choice("type", inferred, TYPES);
    if (type == null) {
      node.problem(
          "type",
          "missing, and the name '"
              + name
              + "' does not imply one; set type to anthropic, openai or ollama");
      return Optional.empty();
    }

    URI baseUrl = baseUrl(node, type);

    Optional<String> disabled = Optional.empty();
    Optional<Secret> apiKey = Optional.empty();
    Optional<ConfigNode.Interpolated> key = node.interpolated("api_key");
    if (key.isPresent() && !key.get().unsetVariables().isEmpty()) {
      disabled =
          Optional.of("its API key variable " + key.get().unsetVariables().get(0) + " is not set");
    } else if (key.isPresent() && !key.get().value().isBlank()) {
      apiKey = Optional.of(new Secret(key.get().value().trim()));
    } else if (baseUrl != null && type.needsKey(baseUrl)) {
      disabled = Optional.of("it has no api_key");
    }
    disabled.ifPresent(reason -> warnings.add("provider " + name + " is disabled: " + reason));

    Map<String, ModelConfig> models = new LinkedHashMap<>();
    ConfigNode modelsNode = node.object("models");
    for (Map.Entry<String, ConfigNode> model : modelsNode.entries().entrySet()) {
      models.put(model.getKey(), readModel(model.getKey(), model.getValue()));
    }
    if (models.isEmpty()) {
      node.problem("models", "no models listed; add at least one model with its costs");
    }

    String usd = "(USD)";
    BigDecimal budget = node.decimal("monthly_budget", BigDecimal.ZERO, usd);
    BigDecimal reserve = node.decimal("emergency_reserve", BigDecimal.ZERO, usd);
    if (reserve.compareTo(budget) > 0 && budget.signum() > 0) {
      node.problem(
          "emergency_reserve",
          "'"
              + reserve.toPlainString()
              + "' is more than monthly_budget "
              + budget.toPlainString()
              + "; make the reserve smaller than the budget");
    }
    int timeout = node.integer("timeout_seconds", 120, 1, 3600);
    int connectTimeout = node.integer("connect_timeout_seconds", 10, 1, 300);
    int maxConcurrency = node.integer("max_concurrency", 8, 1, 1024);
    int queueTimeout = node.integer("queue_timeout_seconds", 30, 1, 3600);
    return Optional.of(
        new ProviderConfig(
            name,
            type,
            baseUrl == null ? type.defaultBaseUrl() : baseUrl,
            apiKey,
            disabled,
            models,
            budget,
            reserve,
            Duration.ofSeconds(timeout),
            Duration.ofSeconds(connectTimeout),
            maxConcurrency,
            Duration.ofSeconds(queueTimeout)));
  }

  private static URI baseUrl(ConfigNode node, ProviderType type) {
    Optional<String> text = node.string("base_url");
    if (text.isEmpty()) {
      return type.defaultBaseUrl();
    }
    String value = text.get().trim().replaceAll("/+$", "");
    URI uri;
    try {
      uri = new URI(value);
    } catch (URISyntaxException e) {
      uri = null;
    }
    if (uri == null
        || uri.getHost() == null
        || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
      node.problem(
          "base_url",
          ConfigNode.quote(text.get())
              + " is not an http(s) URL; use e.g. "
              + type.defaultBaseUrl());
      return null;
    }
    if (type != ProviderType.OPENAI && value.endsWith("/v1")) {
      node.problem(
          "base_url",
          ConfigNode.quote(text.get())
              + " ends in /v1, but "
              + type.configName()
              + " clients add the API path themselves; use "
              + value.substring(0, value.length() - 3));
      return null;
    }
    return uri;
  }

  private static ModelConfig readModel(String name, ConfigNode node) {
    node.allowOnly(MODEL_KEYS);
    String perMillion = "(USD per million tokens)";
    BigDecimal input = node.requiredDecimal("input_cost_per_1m_tokens", perMillion);
    BigDecimal output = node.requiredDecimal("output_cost_per_1m_tokens", perMillion);
    List<String> capabilities =
        node.stringList(
            "capabilities",
            c -> CAPABILITY.matcher(c).matches(),
            "use lowercase words such as code, chat, quick, repair, embed");
    if (!node.has("capabilities")) {
      node.problem("capabilities", "missing; list what the model is for, e.g. [code, chat]");
    }
    int quality = node.integer("quality", 5, 1, 10);
    OptionalInt maxOutput =
        node.has("max_output_tokens")
            ? OptionalInt.of(node.integer("max_output_tokens", 4096, 1, 10_000_000))
            : OptionalInt.empty();
    return new ModelConfig(name, input, output, Set.copyOf(capabilities), quality, maxOutput);
  }
}
