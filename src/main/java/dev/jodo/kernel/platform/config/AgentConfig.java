package dev.jodo.kernel.platform.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where and how an agent lives: seed 000's {@code jodo:} block for the genesis agent, or one entry
 * of the {@code agents:} list. {@code host} is {@code local} for a subprocess of the kernel's
 * machine, otherwise an SSH host reached as {@code sshUser} with the key at {@code sshKeyPath}.
 */
public record AgentConfig(
    String name,
    String host,
    int sshPort,
    Optional<String> sshUser,
    Optional<String> sshKeyPath,
    int port,
    Optional<String> brainPath,
    String healthEndpoint,
    String command) {

  public boolean isLocal() {
    return "local".equals(host);
  }

  /**
   * The brain directory on the agent's host: {@code brain_path}, or for a local agent {@code
   * JODO_HOME/agents/<name>/brain}. (A remote agent always has a {@code brain_path}.)
   */
  public Path brainDir(Path home) {
    return brainPath.map(Path::of).orElseGet(() -> home(home).resolve("brain"));
  }

  /**
   * Where the kernel keeps the agent's pid file, log and archived brains on its host: {@code
   * <brain_path>.jodo} beside a configured brain (so every kernel that may supervise the agent
   * finds its pid file), else {@code JODO_HOME/agents/<name>}.
   */
  public Path home(Path kernelHome) {
    if (brainPath.isEmpty()) {
      return kernelHome.resolve("agents").resolve(name);
    }
    Path brain = Path.of(brainPath.get());
    return brain.resolveSibling(brain.getFileName() + ".jodo");
  }

  /** {@code command} split on whitespace: {@code python3 main.py} → [python3, main.py]. */
  public List<String> commandWords() {
    return List.of(command.trim().split("\\s+"));
  }
}
