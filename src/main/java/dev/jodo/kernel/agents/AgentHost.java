package dev.jodo.kernel.agents;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The machine an agent runs on, as the supervisor needs it: start the agent in its own session,
 * find it again after a kernel restart, check it is alive, stop its whole process group, and put
 * the seed into its brain. {@link LocalHost} is the kernel's own machine; an SSH host does the same
 * over SSH. Paths are paths on the agent's machine.
 *
 * <p>Every operation may block (an SSH host waits up to its timeout); none is called on a request
 * thread. A host that cannot be reached throws {@link AgentHostException}.
 */
public interface AgentHost extends AutoCloseable {

  /**
   * What to run: {@code command} in {@code directory} with exactly {@code environment} (nothing is
   * inherited from the kernel, whose environment may hold provider keys), its output appended to
   * {@code log}, its pid written to {@code pidFile}.
   */
  record Launch(
      Path directory,
      List<String> command,
      Map<String, String> environment,
      Path log,
      Path pidFile) {
    public Launch {
      command = List.copyOf(command);
      environment = Map.copyOf(environment);
    }
  }

  /** Where the kernel reaches the agent's health endpoint: {@code 127.0.0.1} or the SSH host. */
  String address();

  /**
   * Starts {@code launch} in a new session (its own process group); returns its pid, also written
   * to its pid file.
   */
  long start(Launch launch);

  /**
   * The agent recorded in {@code pidFile}, if that process is alive and still runs in {@code
   * directory} (its working directory), so a recycled pid that now belongs to something else is not
   * adopted.
   */
  Optional<Long> running(Path pidFile, Path directory);

  boolean isAlive(long pid);

  /**
   * Stops the agent's whole process group: SIGTERM, then SIGKILL if it is still alive after {@code
   * grace}.
   */
  void stop(long pid, Duration grace);

  boolean exists(Path file);

  /** Writes {@code content} to {@code file}, creating its parent directories. */
  void write(Path file, byte[] content);

  /** Releases connections; the agents keep running. */
  @Override
  default void close() {}
}
