package dev.jodo.kernel.agents.brain;

import static dev.jodo.kernel.agents.ssh.SshConnection.quote;

import dev.jodo.kernel.agents.AgentHostException;
import dev.jodo.kernel.agents.ssh.SshConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * A brain on another machine: the same contract as {@link LocalBrain}, done with the {@code git}
 * command line over SSH. Every git call runs with the brain's hooks switched off ({@code
 * core.hooksPath=/dev/null}), without signing, as the kernel's identity. Operations on one brain
 * take turns on the instance's lock.
 */
public final class SshBrain implements Brain {
  private static final Pattern ABBREVIATED_HASH = Pattern.compile("[0-9a-fA-F]{4,40}");
  private static final Pattern TAG_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,100}");
  private static final DateTimeFormatter ARCHIVE_STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final String FIELD = "\u001f";
  private static final String RECORD = "\u001e";

  private final SshConnection ssh;
  private final Path dir;
  private final String git;
  private final ReentrantLock lock = new ReentrantLock();

  public SshBrain(SshConnection ssh, Path dir, Identity identity) {
    this.ssh = ssh;
    this.dir = dir.normalize();
    if (this.dir.getFileName() == null || !this.dir.isAbsolute()) {
      throw new IllegalArgumentException("a brain needs an absolute directory of its own: " + dir);
    }
    this.git =
        "git -C "
            + quote(this.dir.toString())
            + " -c core.hooksPath=/dev/null -c commit.gpgsign=false -c tag.gpgsign=false"
            + " -c user.name="
            + quote(identity.name())
            + " -c user.email="
            + quote(identity.email());
  }

  @Override
  public Head ensureRepository() {
    return locked(
        "git init",
        () -> {
          initWithFirstCommit("Initial commit");
          return head(tagsByCommit()).orElseThrow();
        });
  }

  /**
   * Makes the repository if it is missing and, while it has no commit, commits whatever is there
   * (even nothing) with {@code message}, so there is always a HEAD. Returns whether it committed.
   */
  private boolean initWithFirstCommit(String message) {
    String out =
        run(
            "git init",
            "mkdir -p "
                + quote(dir.toString())
                + " && { [ -e "
                + quote(dir.resolve(".git").toString())
                + " ] || git init -q -b main "
                + quote(dir.toString())
                + "; } && if "
                + git
                + " rev-parse -q --verify HEAD >/dev/null; then echo existing; else "
                + git
                + " add -A && "
                + git
                + " commit -q --allow-empty --cleanup=verbatim -F - && echo first; fi",
            message.getBytes(StandardCharsets.UTF_8));
    return out.strip().equals("first");
  }

  @Override
  public Committed commitAll(String message) {
    if (message == null || message.isBlank()) {
      throw new IllegalArgumentException("commit message must not be blank");
    }
    return locked(
        "git commit",
        () -> {
          if (initWithFirstCommit(message)) {
            return committed(true);
          }
          String out =
              run(
                  "git commit",
                  git
                      + " add -A && if "
                      + git
                      + " diff --cached --quiet; then echo unchanged; else "
                      + git
                      + " commit -q --cleanup=verbatim -F - && echo changed; fi",
                  message.getBytes(StandardCharsets.UTF_8));
          return committed(out.strip().equals("changed"));
        });
  }

  @Override
  public List<HistoryEntry> history(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("history limit must be at least 1: " + limit);
    }
    return locked(
        "git log",
        () -> {
          if (!hasHead()) {
            return List.of();
          }
          Map<String, StableTag> tags = tagsByCommit();
          String out =
              run(
                  "git log",
                  git
                      + " log -n "
                      + limit
                      + " --format='%H"
                      + FIELD
                      + "%ct"
                      + FIELD
                      + "%B"
                      + RECORD
                      + "'",
                  null);
          List<HistoryEntry> entries = new ArrayList<>();
          for (String record : out.split(RECORD)) {
            String trimmed = record.startsWith("\n") ? record.substring(1) : record;
            if (trimmed.isBlank()) {
              continue;
            }
            String[] fields = trimmed.split(FIELD, 3);
            entries.add(
                new HistoryEntry(
                    fields[0],
                    fields.length > 2 ? fields[2].stripTrailing() : "",
                    Instant.ofEpochSecond(Long.parseLong(fields[1])),
                    Optional.ofNullable(tags.get(fields[0])).map(StableTag::name)));
          }
          return entries;
        });
  }

  @Override
  public Optional<Head> head() {
    return locked("git rev-parse HEAD", () -> hasHead() ? head(tagsByCommit()) : Optional.empty());
  }

  @Override
  public Optional<String> newestStableTag() {
    return locked(
        "git tag",
        () -> tagsByCommit().values().stream().max(StableTag::compareTo).map(StableTag::name));
  }

  @Override
  public String tagStable(String hash) {
    return locked(
        "git tag",
        () -> {
          String full = resolveCommit(hash);
          List<String[]> lines = stableTagLines();
          StableTag existing = byCommit(lines).get(full);
          if (existing != null) {
            return existing.name();
          }
          List<StableTag> all = new ArrayList<>();
          for (String[] tag : lines) {
            StableTag.parse(tag[0]).ifPresent(all::add);
          }
          StableTag next = StableTag.next(all);
          run(
              "git tag",
              git + " tag -a -m 'Marked stable by the kernel' " + next.name() + " " + full,
              null);
          return next.name();
        });
  }

  @Override
  public Rollback rollback(String target) {
    if (target == null || target.isBlank()) {
      throw new IllegalArgumentException("target must be a tag or a commit hash, not blank");
    }
    return locked(
        "git reset --hard " + target,
        () -> {
          String to = resolveCommit(target);
          run(
              "git commit",
              git
                  + " add -A && { "
                  + git
                  + " diff --cached --quiet || "
                  + git
                  + " commit -q -m "
                  + quote("Uncommitted changes before rollback to " + target)
                  + "; }",
              null);
          String from = headHash();
          if (!from.equals(to)) {
            run("git update-ref", git + " update-ref refs/rolled-back/" + from + " " + from, null);
          }
          run("git reset --hard", git + " reset -q --hard " + to, null);
          return new Rollback(from, target, to);
        });
  }

  @Override
  public Path archiveAndWipe(Path archiveRoot, Instant now) {
    Path root = archiveRoot.normalize();
    if (root.startsWith(dir)) {
      throw new IllegalArgumentException(
          "the archive root " + root + " must not be inside the brain " + dir);
    }
    return locked(
        "archive",
        () -> {
          String name = dir.getFileName() + "-" + ARCHIVE_STAMP.format(now);
          String out =
              run(
                  "archive",
                  "mkdir -p "
                      + quote(root.toString())
                      + " && a="
                      + quote(root.resolve(name).toString())
                      + " && n=2 && t=\"$a\" && while [ -e \"$t\" ]; do t=\"$a-$n\"; n=$((n+1)); done"
                      + " && mv "
                      + quote(dir.toString())
                      + " \"$t\" && mkdir -p "
                      + quote(dir.toString())
                      + " && echo \"$t\"",
                  null);
          return Path.of(out.strip());
        });
  }

  private boolean hasHead() {
    return ssh.exec(
            "[ -e "
                + quote(dir.resolve(".git").toString())
                + " ] && "
                + git
                + " rev-parse -q --verify HEAD >/dev/null",
            null)
        .ok();
  }

  private String headHash() {
    return run("git rev-parse HEAD", git + " rev-parse HEAD", null).strip();
  }

  private Committed committed(boolean changed) {
    String[] head = run("git log", git + " log -1 --format='%H %ct'", null).strip().split(" ");
    return new Committed(head[0], Instant.ofEpochSecond(Long.parseLong(head[1])), changed);
  }

  private Optional<Head> head(Map<String, StableTag> tags) {
    String hash = headHash();
    return Optional.of(new Head(hash, Optional.ofNullable(tags.get(hash)).map(StableTag::name)));
  }

  /** A tag name or an abbreviated hash, as {@link LocalBrain} accepts them, to a full hash. */
  private String resolveCommit(String target) {
    if (!hasHead()) {
      throw new BrainException.UnknownTarget(dir, target, "the brain has no commits yet");
    }
    boolean hash = ABBREVIATED_HASH.matcher(target).matches();
    if (!hash && !TAG_NAME.matcher(target).matches()) {
      throw new BrainException.UnknownTarget(dir, target, "no such tag");
    }
    SshConnection.Result tag =
        ssh.exec(
            git + " rev-parse -q --verify " + quote("refs/tags/" + target + "^{commit}"), null);
    if (tag.ok()) {
      return tag.stdout().strip();
    }
    if (!hash) {
      throw new BrainException.UnknownTarget(dir, target, "no such tag");
    }
    SshConnection.Result commit =
        ssh.exec(git + " rev-parse --verify " + quote(target + "^{commit}"), null);
    if (commit.ok()) {
      return commit.stdout().strip();
    }
    String why = commit.stderr().contains("ambiguous") ? "ambiguous" : "no such tag or commit";
    throw new BrainException.UnknownTarget(dir, target, why);
  }

  /** Each commit's newest stable tag. */
  private Map<String, StableTag> tagsByCommit() {
    return byCommit(stableTagLines());
  }

  private static Map<String, StableTag> byCommit(List<String[]> lines) {
    Map<String, StableTag> byCommit = new HashMap<>();
    for (String[] tag : lines) {
      StableTag.parse(tag[0])
          .ifPresent(t -> byCommit.merge(tag[1], t, (a, b) -> a.compareTo(b) >= 0 ? a : b));
    }
    return byCommit;
  }

  /** [name, commit] of every {@code stable-v*} tag (annotated tags peeled to their commit). */
  private List<String[]> stableTagLines() {
    String out =
        run(
            "git tag",
            "[ ! -e "
                + quote(dir.resolve(".git").toString())
                + " ] || "
                + git
                + " for-each-ref --format='%(refname:short) %(objectname) %(*objectname)'"
                + " 'refs/tags/stable-v*'",
            null);
    List<String[]> lines = new ArrayList<>();
    for (String line : out.split("\n")) {
      String[] parts = line.strip().split(" ");
      if (parts.length >= 2 && !parts[0].isEmpty()) {
        lines.add(new String[] {parts[0], parts.length > 2 ? parts[2] : parts[1]});
      }
    }
    return lines;
  }

  private String run(String operation, String command, byte[] stdin) {
    SshConnection.Result result = ssh.exec(command, stdin);
    if (!result.ok()) {
      String message = result.stderr().strip();
      throw new BrainException.Failed(
          dir, operation, message.isEmpty() ? "exit " + result.exitCode() : message);
    }
    return result.stdout();
  }

  private interface Work<T> {
    T run();
  }

  private <T> T locked(String operation, Work<T> work) {
    lock.lock();
    try {
      return work.run();
    } catch (AgentHostException e) {
      throw new BrainException.Failed(dir, operation, e);
    } finally {
      lock.unlock();
    }
  }
}
