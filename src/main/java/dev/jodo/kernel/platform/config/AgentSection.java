package dev.jodo.kernel.platform.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Seed 000's {@code jodo:} block (the genesis agent, named by {@code genesis.yaml}) and the {@code
 * agents:} list of further agents with the same keys plus {@code name}. Without either, the kernel
 * supervises no agent.
 */
final class AgentSection {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,49}");
  private static final Set<String> KEYS =
      Set.of(
          "host",
          "ssh_port",
          "ssh_user",
          "ssh_key_path",
          "port",
          "brain_path",
          "health_endpoint",
          "command");

  private AgentSection() {}

  static List<AgentConfig> read(ConfigNode root, String genesisName, Path home) {
    List<AgentConfig> agents = new ArrayList<>();
    Map<String, ConfigNode> where = new HashMap<>();
    if (!root.object("jodo").isMissing()) {
      ConfigNode jodo = root.object("jodo");
      jodo.allowOnly(KEYS);
      agents.add(agent(jodo, genesisName));
      where.put(genesisName, jodo);
    }
    for (ConfigNode node : root.objectList("agents")) {
      Set<String> keys = new java.util.HashSet<>(KEYS);
      keys.add("name");
      node.allowOnly(keys);
      Optional<String> name = node.string("name").map(n -> n.trim().toLowerCase(Locale.ROOT));
      if (name.isEmpty() || !NAME.matcher(name.get()).matches()) {
        node.problem(
            "name",
            name.isEmpty()
                ? "missing; give each agent a name, e.g. name: \"scout\""
                : ConfigNode.quote(name.get())
                    + " cannot name an agent; use letters, digits, '-' or '_' (at most 50)");
        continue;
      }
      if (where.containsKey(name.get())) {
        node.problem(
            "name",
            ConfigNode.quote(name.get())
                + " is already an agent"
                + (name.get().equals(genesisName) ? " (the genesis agent of jodo:)" : "")
                + "; give each agent its own name");
        continue;
      }
      agents.add(agent(node, name.get()));
      where.put(name.get(), node);
    }
    distinct(agents, where, home);
    return agents;
  }

  private static AgentConfig agent(ConfigNode node, String name) {
    String host = node.string("host", "local").trim();
    if (host.isEmpty()) {
      node.problem("host", "is empty; use \"local\" or the agent machine's address");
    }
    boolean remote = !"local".equals(host) && !host.isEmpty();
    Optional<String> sshUser = node.string("ssh_user").filter(s -> !s.isBlank());
    Optional<String> sshKey = node.string("ssh_key_path").filter(s -> !s.isBlank());
    Optional<String> brain = node.string("brain_path").filter(s -> !s.isBlank()).map(String::trim);
    if (remote) {
      if (sshUser.isEmpty()) {
        node.problem("ssh_user", "missing for remote host '" + host + "'; set the SSH user");
      }
      if (sshKey.isEmpty()) {
        node.problem(
            "ssh_key_path", "missing for remote host '" + host + "'; set the private key's path");
      }
      if (brain.isEmpty()) {
        node.problem(
            "brain_path",
            "missing for remote host '"
                + host
                + "'; set the brain's directory there, e.g. /opt/jodo/brain");
      }
    }
    brain.ifPresent(
        path -> {
          if (!path.startsWith("/")) {
            node.problem(
                "brain_path", ConfigNode.quote(path) + " is not absolute; e.g. /opt/jodo/brain");
          } else if (Path.of(path).normalize().getNameCount() == 0) {
            node.problem("brain_path", "'/' cannot be a brain; e.g. /opt/jodo/brain");
          }
        });
    int sshPort = node.integer("ssh_port", 22, 1, 65535);
    int port = node.integer("port", 9000, 1, 65535);
    String health = node.string("health_endpoint", "/health");
    if (!health.startsWith("/")) {
      node.problem(
          "health_endpoint", ConfigNode.quote(health) + " must start with '/'; e.g. /health");
    }
    String command = node.string("command", "python3 main.py");
    if (command.isBlank()) {
      node.problem("command", "is empty; e.g. python3 main.py");
      command = "python3 main.py";
    }
    return new AgentConfig(
        name,
        host,
        sshPort,
        sshUser,
        sshKey,
        port,
        brain.filter(p -> p.startsWith("/")),
        health,
        command);
  }

  /** Two agents on one host cannot share a port or a brain. */
  private static void distinct(List<AgentConfig> agents, Map<String, ConfigNode> where, Path home) {
    Map<String, String> ports = new HashMap<>();
    Map<String, String> brains = new HashMap<>();
    for (AgentConfig agent : agents) {
      ConfigNode node = where.get(agent.name());
      String port = ports.putIfAbsent(agent.host() + ":" + agent.port(), agent.name());
      if (port != null) {
        node.problem(
            "port",
            agent.port()
                + " is already agent '"
                + port
                + "''s port on host '"
                + agent.host()
                + "'; give each agent on a host its own port");
      }
      if (!agent.isLocal() && agent.brainPath().isEmpty()) {
        continue;
      }
      String brainDir = agent.brainDir(home).normalize().toString();
      String brain = brains.putIfAbsent(agent.host() + ":" + brainDir, agent.name());
      if (brain != null) {
        node.problem(
            "brain_path",
            ConfigNode.quote(brainDir)
                + " is already agent '"
                + brain
                + "''s brain; give each agent its own brain_path");
      }
    }
  }
}
