package dev.jodo.kernel.agents.brain;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An agent's brain directory as a git repository: what {@code POST /api/commit}, {@code POST
 * /api/rollback}, {@code GET /api/history} and the supervisor's health ladder need from it. {@link
 * LocalBrain} does it with JGit on the kernel's machine; a remote brain does the same with the
 * {@code git} CLI over SSH.
 *
 * <pre>{@code
 * Brain brain = new LocalBrain(home.resolve("brains/jodo"), clock, Brain.Identity.KERNEL);
 * brain.ensureRepository();                              // first boot: git init + initial commit
 * Brain.Committed c = brain.commitAll("Added websocket support to chat");
 * String tag = brain.tagStable(c.hash());                // "stable-v4" after 5 healthy minutes
 * brain.rollback("stable-v3");                           // fail count 6
 * }</pre>
 *
 * <p>Hashes are full 40-character hex ids; the API may abbreviate them for display. Stable tags are
 * named {@code stable-vN}, N counting up from 1; only tags of that form count as stable. Git itself
 * failing is a {@link BrainException.Failed}; a tag or hash that names no commit is a {@link
 * BrainException.UnknownTarget}.
 *
 * <p>Implementations serialize the operations on one brain, so the API and the supervisor may call
 * them concurrently.
 */
public interface Brain {

  /**
   * Makes the brain a git repository if it is not one yet: creates the directory, runs {@code git
   * init} and commits whatever is there (even nothing) as {@code "Initial commit"}, so that the
   * brain always has a HEAD afterwards. Does nothing to a repository that has commits.
   */
  Head ensureRepository();

  /**
   * {@code git add -A && git commit -m message}: stages new, modified and deleted files (ignored
   * files stay out). With nothing to commit, returns the current HEAD with {@code changed=false}. A
   * brain without a repository is initialized first; its first commit is made even if empty, so
   * there is always a hash to return.
   */
  Committed commitAll(String message);

  /** Commits reachable from HEAD, newest first, at most {@code limit}; empty before any commit. */
  List<HistoryEntry> history(int limit);

  /** The commit checked out now and its stable tag; empty before the first commit. */
  Optional<Head> head();

  /** The stable tag with the highest N, wherever it points; empty if none. */
  Optional<String> newestStableTag();

  /**
   * Tags a commit {@code stable-vN}, N one more than the highest existing N (numerically: after
   * {@code stable-v9} comes {@code stable-v10}). A commit that already has a stable tag keeps it
   * and gets no second one: its existing tag is returned.
   *
   * @param hash a full or abbreviated commit hash
   * @return the commit's stable tag
   */
  String tagStable(String hash);

  /**
   * Checks out an earlier (or any) commit, as git's {@code reset --hard}: the branch and the
   * working tree move to the target, so HEAD <em>is</em> the target and carries its stable tag.
   * Nothing is lost on the way: uncommitted changes are first committed, and the commit left behind
   * is kept under {@code refs/rolled-back/<hash>}, so the abandoned line stays reachable ({@code
   * git log --all}) and never becomes garbage.
   *
   * @param target a tag name (usually {@code stable-vN}) or a full or abbreviated (4+ hex digits)
   *     commit hash; revision expressions such as {@code HEAD~1} are not accepted
   */
  Rollback rollback(String target);

  /**
   * Rebirth: moves the whole brain, {@code .git} included, to a new directory under {@code
   * archiveRoot} named after the brain and {@code now}, and leaves an empty brain directory (no
   * repository) in its place.
   *
   * @return the archive directory
   */
  Path archiveAndWipe(Path archiveRoot, Instant now);

  /** Who the kernel's commits and tags are by. */
  record Identity(String name, String email) {
    /** {@code Jodo Kernel <kernel@jodo.local>}. */
    public static final Identity KERNEL = new Identity("Jodo Kernel", "kernel@jodo.local");

    public Identity {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("identity name must not be blank");
      }
      if (email == null || email.isBlank() || email.contains("<") || email.contains(">")) {
        throw new IllegalArgumentException("not a valid identity email: " + email);
      }
    }
  }

  /**
   * What {@link #commitAll} did: the new commit, or with {@code changed=false} the unchanged HEAD.
   */
  record Committed(String hash, Instant timestamp, boolean changed) {
    public Committed {
      Objects.requireNonNull(hash, "hash");
      Objects.requireNonNull(timestamp, "timestamp");
    }
  }

  /** One commit as {@code GET /api/history} lists it; {@code tag} is its stable tag, if any. */
  record HistoryEntry(String hash, String message, Instant timestamp, Optional<String> tag) {
    public HistoryEntry {
      Objects.requireNonNull(hash, "hash");
      Objects.requireNonNull(message, "message");
      Objects.requireNonNull(timestamp, "timestamp");
      Objects.requireNonNull(tag, "tag");
    }
  }

  /**
   * The checked-out commit ({@code current_git_hash}) and its stable tag ({@code current_git_tag}).
   */
  record Head(String hash, Optional<String> stableTag) {
    public Head {
      Objects.requireNonNull(hash, "hash");
      Objects.requireNonNull(stableTag, "stableTag");
    }
  }

  /**
   * A finished rollback: {@code from} is the commit left behind, {@code to} the target as the
   * caller named it, {@code toHash} the commit it named and HEAD now is.
   */
  record Rollback(String from, String to, String toHash) {
    public Rollback {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(to, "to");
      Objects.requireNonNull(toHash, "toHash");
    }
  }
}
