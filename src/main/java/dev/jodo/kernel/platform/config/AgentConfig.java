package dev.jodo.kernel.platform.config;

import java.util.Optional;

/**
 * Where and how an agent lives (seed 000's {@code jodo:} block). {@code host} is {@code local} for
 * a subprocess of the kernel's machine, otherwise an SSH host.
 */
public record AgentConfig(
    String name,
    String host,
    Optional<String> sshUser,
    Optional<String> sshKeyPath,
    int port,
    Optional<String> brainPath,
    String healthEndpoint,
    String command) {

  public boolean isLocal() {
    return "local".equals(host);
  }
}
