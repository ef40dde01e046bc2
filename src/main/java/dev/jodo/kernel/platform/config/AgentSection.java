package dev.jodo.kernel.platform.config;

import java.util.Optional;
import java.util.Set;

/** Seed 000's {@code jodo:} block: where the genesis agent lives and how it is checked. */
final class AgentSection {
  private AgentSection() {}

  static AgentConfig read(ConfigNode node, String agentName) {
    node.allowOnly(
        Set.of(
            "host",
            "ssh_user",
            "ssh_key_path",
            "port",
            "brain_path",
            "health_endpoint",
            "command"));
    String host = node.string("host", "local").trim();
    if (host.isEmpty()) {
      node.problem("host", "is empty; use \"local\" or the agent machine's address");
    }
    Optional<String> sshUser = node.string("ssh_user").filter(s -> !s.isBlank());
    Optional<String> sshKey = node.string("ssh_key_path").filter(s -> !s.isBlank());
    if (!"local".equals(host) && !host.isEmpty()) {
      if (sshUser.isEmpty()) {
        node.problem("ssh_user", "missing for remote host '" + host + "'; set the SSH user");
      }
      if (sshKey.isEmpty()) {
        node.problem(
            "ssh_key_path", "missing for remote host '" + host + "'; set the private key's path");
      }
    }
    int port = node.integer("port", 9000, 1, 65535);
    Optional<String> brain = node.string("brain_path").filter(s -> !s.isBlank());
    String health = node.string("health_endpoint", "/health");
    if (!health.startsWith("/")) {
      node.problem(
          "health_endpoint", ConfigNode.quote(health) + " must start with '/'; e.g. /health");
    }
    String command = node.string("command", "python3 main.py");
    return new AgentConfig(agentName, host, sshUser, sshKey, port, brain, health, command);
  }
}
