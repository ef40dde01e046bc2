package dev.jodo.kernel.platform.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** {@code genesis.yaml} is the agent's own document; the kernel needs only its name from it. */
final class GenesisSection {
  private static final Pattern AGENT_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,49}");

  private GenesisSection() {}

  /** The genesis agent's name in lowercase ("Jodo" → "jodo"), used for tokens and usage rows. */
  static String agentName(JsonNode genesis, List<ConfigProblem> problems) {
    if (genesis.isMissingNode()) {
      return "jodo";
    }
    JsonNode name = genesis.path("identity").path("name");
    if (!name.isTextual() || name.asText().isBlank()) {
      problems.add(
          new ConfigProblem(
              ConfigLoader.GENESIS_FILE,
              "identity.name",
              "missing; give the agent a name, e.g. identity: {name: \"Jodo\"}"));
      return "jodo";
    }
    String agent = name.asText().trim().toLowerCase(Locale.ROOT);
    if (!AGENT_NAME.matcher(agent).matches()) {
      problems.add(
          new ConfigProblem(
              ConfigLoader.GENESIS_FILE,
              "identity.name",
              ConfigNode.quote(name.asText())
                  + " cannot name an agent; use letters, digits, '-' or '_' (at most 50)"));
      return "jodo";
    }
    return agent;
  }
}
