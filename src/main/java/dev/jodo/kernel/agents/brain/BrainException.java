package dev.jodo.kernel.agents.brain;

import java.nio.file.Path;

/**
 * Why a {@link Brain} operation failed. Both cases name the brain directory; {@link Failed} carries
 * git's (or the file system's) own message and its cause.
 */
public abstract sealed class BrainException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path brain;

  private BrainException(Path brain, String message, Throwable cause) {
    super(message, cause);
    this.brain = brain;
  }

  public Path brain() {
    return brain;
  }

  /**
   * Git or the file system failed: a locked index, a corrupt repository, a full disk, an SSH
   * connection that broke. The brain is there but cannot do this now (the API answers 502).
   */
  public static final class Failed extends BrainException {
    private static final long serialVersionUID = 1L;

    public Failed(Path brain, String operation, Throwable cause) {
      super(
          brain, operation + " failed in " + brain + ": " + BrainException.describe(cause), cause);
    }

    public Failed(Path brain, String operation, String gitMessage) {
      super(brain, operation + " failed in " + brain + ": " + gitMessage, null);
    }
  }

  /** A rollback or tag target that names no commit of the brain (the API answers 404). */
  public static final class UnknownTarget extends BrainException {
    private static final long serialVersionUID = 1L;
    private final String target;

    public UnknownTarget(Path brain, String target, String why) {
      super(brain, "unknown target " + target + " in " + brain + ": " + why, null);
      this.target = target;
    }

    public String target() {
      return target;
    }
  }

  /**
   * JGit wraps the telling message ("Cannot lock .git/index") in generic ones ("Exception caught
   * during execution of add command"), so the chain's distinct messages are joined.
   */
  private static String describe(Throwable cause) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = cause; t != null; t = t.getCause()) {
      String message = t.getMessage();
      if (message == null || message.isBlank() || text.indexOf(message) >= 0) {
        continue;
      }
      text.append(text.isEmpty() ? "" : ": ").append(message);
    }
    return text.isEmpty() ? cause.getClass().getSimpleName() : text.toString();
  }
}
