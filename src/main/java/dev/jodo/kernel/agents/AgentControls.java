package dev.jodo.kernel.agents;

import dev.jodo.kernel.agents.brain.Brain;
import dev.jodo.kernel.agents.brain.BrainException;
import dev.jodo.kernel.platform.http.ApiException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The process controls (restart, roll back, kill, rebirth) as the lifecycle API and the control
 * panel use them, with their errors as {@link ApiException}s: 404 for an unknown agent or target,
 * 409 on a kernel that does not supervise the agent (naming the one that does), 502 when git or the
 * agent's host failed.
 */
public final class AgentControls {
  private static final Duration ROLLBACK_WAIT = Duration.ofSeconds(30);

  private final AgentsModule agents;

  public AgentControls(AgentsModule agents) {
    this.agents = agents;
  }

  /** The configured agent called {@code name}, or 404 listing the configured ones. */
  public AgentsModule.Agent agent(String name) {
    return agents
        .agent(name)
        .orElseThrow(
            () ->
                ApiException.notFound(
                    "agent '"
                        + name
                        + "' is not configured"
                        + (agents.names().isEmpty()
                            ? "; add a jodo: section to config.yaml"
                            : "; configured agents: " + String.join(", ", agents.names()))));
  }

  /** Restarts the agent; returns the pid it had. */
  public long restart(String name) {
    return supervisor(name).restart();
  }

  /** Stops the agent and keeps it stopped; returns the pid it had. */
  public long kill(String name) {
    return supervisor(name).kill();
  }

  /** Archives the brain and starts the seed again; returns the pid it had. */
  public long rebirth(String name) {
    return supervisor(name).rebirth();
  }

  /**
   * Moves the brain to {@code target} (a tag or commit hash) and restarts the agent on it; waits up
   * to 30 s for the brain to move (503 {@code rollback_pending} after that, while it goes on).
   */
  public Brain.Rollback rollback(String name, String target) {
    AgentSupervisor supervisor = supervisor(name);
    try {
      return supervisor.rollback(target).get(ROLLBACK_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw brainError(e.getCause());
    } catch (TimeoutException e) {
      throw ApiException.unavailable(
          "rollback_pending",
          "the rollback has not finished within "
              + ROLLBACK_WAIT.toSeconds()
              + " s; it goes on, see GET /api/status");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.unavailable("interrupted", "the kernel is shutting down");
    }
  }

  private AgentSupervisor supervisor(String name) {
    agent(name);
    return agents
        .supervisor(name)
        .orElseThrow(
            () ->
                new ApiException(
                    409,
                    "not_supervisor",
                    agents
                        .supervisingKernel(name)
                        .map(
                            kernel ->
                                "agent '"
                                    + name
                                    + "' is supervised by kernel "
                                    + kernel
                                    + "; send this request to that kernel")
                        .orElse(
                            "no kernel supervises agent '"
                                + name
                                + "' yet; try again in a few seconds")));
  }

  /** A brain or host failure as the API reports it. */
  static RuntimeException brainError(Throwable e) {
    return switch (e) {
      case BrainException.UnknownTarget unknown ->
          new ApiException(404, "unknown_target", unknown.getMessage());
      case BrainException.Failed failed -> new ApiException(502, "git_failed", failed.getMessage());
      case AgentHostException host -> new ApiException(502, "agent_host_failed", host.getMessage());
      case RuntimeException other -> other;
      default -> new IllegalStateException(e);
    };
  }
}
