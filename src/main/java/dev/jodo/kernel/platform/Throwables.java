package dev.jodo.kernel.platform;

import java.util.Optional;

/** Walking an exception's causes, for messages that name what actually went wrong. */
public final class Throwables {
  private Throwables() {}

  /** The innermost cause of {@code error} (itself when it has none). */
  public static Throwable root(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }

  /** The first of {@code error} and its causes that is a {@code type}. */
  public static <T extends Throwable> Optional<T> find(Throwable error, Class<T> type) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return Optional.of(type.cast(t));
      }
    }
    return Optional.empty();
  }
}
