package dev.jodo.kernel.agents;

/** An agent's host could not do what was asked: unreachable, timed out, or a command failed. */
public final class AgentHostException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AgentHostException(String message) {
    super(message);
  }

  public AgentHostException(String message, Throwable cause) {
    super(message, cause);
  }
}
