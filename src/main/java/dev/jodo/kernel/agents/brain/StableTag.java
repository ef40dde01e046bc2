package dev.jodo.kernel.agents.brain;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code stable-vN} tag name. N is compared as a number, so {@code stable-v10} is newer than
 * {@code stable-v9}; names that merely start with {@code stable-} are not stable tags.
 */
record StableTag(int version) implements Comparable<StableTag> {
  static final String PREFIX = "stable-v";
  private static final Pattern NAME = Pattern.compile("stable-v([1-9][0-9]{0,8})");

  StableTag {
    if (version < 1) {
      throw new IllegalArgumentException("stable tag versions start at 1: " + version);
    }
  }

  /** The tag a short tag name (without {@code refs/tags/}) stands for, if it is a stable tag. */
  static Optional<StableTag> parse(String name) {
    Matcher m = NAME.matcher(name);
    return m.matches()
        ? Optional.of(new StableTag(Integer.parseInt(m.group(1))))
        : Optional.empty();
  }

  /** The tag after the newest of {@code existing}; {@code stable-v1} when there is none. */
  static StableTag next(Collection<StableTag> existing) {
    return new StableTag(
        existing.stream().max(Comparator.naturalOrder()).map(t -> t.version() + 1).orElse(1));
  }

  String name() {
    return PREFIX + version;
  }

  @Override
  public int compareTo(StableTag other) {
    return Integer.compare(version, other.version);
  }
}
