package dev.jodo.kernel.agents.brain;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.ResetCommand.ResetType;
import org.eclipse.jgit.api.errors.EmptyCommitException;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.api.errors.JGitInternalException;
import org.eclipse.jgit.errors.RevWalkException;
import org.eclipse.jgit.lib.AbbreviatedObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefDatabase;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.util.FS;
import org.eclipse.jgit.util.FS_POSIX;

/**
 * A brain on the kernel's own machine, a git repository worked with JGit (no {@code git} binary
 * needed). One instance per brain directory: operations on it take turns on the instance's lock, so
 * the composition root must share it between the API and the supervisor. The repository is opened
 * per operation, which also sees commits the agent made with its own {@code git}.
 *
 * <p>The kernel runs none of the brain's git hooks: the brain, {@code .git} included, is the
 * agent's to write, and a hook it wrote must neither veto the kernel's snapshot or rollback of a
 * broken brain nor run as the kernel.
 */
public final class LocalBrain implements Brain {
  private static final String BRANCH = "main";

  /** Where a rollback keeps the commit it moved away from, so it is never garbage. */
  static final String ROLLED_BACK = "refs/rolled-back/";

  private static final Pattern ABBREVIATED_HASH = Pattern.compile("[0-9a-fA-F]{4,40}");
  private static final DateTimeFormatter ARCHIVE_STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final FS NO_HOOKS = new NoHooks(FS.DETECTED);

  private final Path dir;
  private final Clock clock;
  private final Identity identity;
  private final ReentrantLock lock = new ReentrantLock();

  public LocalBrain(Path dir, Clock clock, Identity identity) {
    this.dir = dir.toAbsolutePath().normalize();
    if (this.dir.getFileName() == null) {
      throw new IllegalArgumentException("a brain needs a directory of its own, not " + dir);
    }
    this.clock = Objects.requireNonNull(clock, "clock");
    this.identity = Objects.requireNonNull(identity, "identity");
  }

  public Path directory() {
    return dir;
  }

  @Override
  public Head ensureRepository() {
    return locked(
        "git init",
        () -> {
          try (Repository repo = openOrInit();
              Git git = Git.wrap(repo)) {
            if (repo.resolve(Constants.HEAD) == null) {
              commitEverything(git, "Initial commit", true);
            }
            return headOf(repo).orElseThrow();
          }
        });
  }

  @Override
  public Committed commitAll(String message) {
    if (message == null || message.isBlank()) {
      throw new IllegalArgumentException("commit message must not be blank");
    }
    return locked(
        "git commit",
        () -> {
          try (Repository repo = openOrInit();
              Git git = Git.wrap(repo)) {
            // The first commit is made even if empty, so that there is a hash to answer with.
            boolean first = repo.resolve(Constants.HEAD) == null;
            try {
              RevCommit commit = commitEverything(git, message, first);
              return new Committed(commit.name(), timeOf(commit), true);
            } catch (EmptyCommitException nothingChanged) {
              RevCommit head = parseCommit(repo, repo.resolve(Constants.HEAD));
              return new Committed(head.name(), timeOf(head), false);
            }
          }
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
          try (Repository repo = openExisting()) {
            ObjectId head = repo == null ? null : repo.resolve(Constants.HEAD);
            if (head == null) {
              return List.of();
            }
            Map<String, StableTag> tags = stableTagsByCommit(repo);
            List<HistoryEntry> entries = new ArrayList<>();
            try (RevWalk walk = new RevWalk(repo)) {
              walk.markStart(walk.parseCommit(head));
              for (RevCommit commit : walk) {
                if (entries.size() == limit) {
                  break;
                }
                entries.add(
                    new HistoryEntry(
                        commit.name(),
                        commit.getFullMessage().stripTrailing(),
                        timeOf(commit),
                        Optional.ofNullable(tags.get(commit.name())).map(StableTag::name)));
              }
            }
            return entries;
          }
        });
  }

  @Override
  public Optional<Head> head() {
    return locked(
        "git rev-parse HEAD",
        () -> {
          try (Repository repo = openExisting()) {
            return repo == null ? Optional.empty() : headOf(repo);
          }
        });
  }

  @Override
  public Optional<String> newestStableTag() {
    return locked(
        "git tag",
        () -> {
          try (Repository repo = openExisting()) {
            if (repo == null) {
              return Optional.empty();
            }
            return stableTagsByCommit(repo).values().stream()
                .max(StableTag::compareTo)
                .map(StableTag::name);
          }
        });
  }

  @Override
  public String tagStable(String hash) {
    requireTarget(hash);
    return locked(
        "git tag",
        () -> {
          try (Repository repo = openExisting()) {
            ObjectId commit = resolveCommit(repo, hash);
            Map<String, StableTag> tags = stableTagsByCommit(repo);
            StableTag existing = tags.get(commit.name());
            if (existing != null) {
              return existing.name();
            }
            StableTag next = StableTag.next(tags.values());
            try (Git git = Git.wrap(repo)) {
              git.tag()
                  .setName(next.name())
                  .setObjectId(parseCommit(repo, commit))
                  .setAnnotated(true)
                  .setMessage("Marked stable by the kernel")
                  .setTagger(now())
                  .setSigned(false)
                  .call();
            }
            return next.name();
          }
        });
  }

  @Override
  public Rollback rollback(String target) {
    requireTarget(target);
    return locked(
        "git reset --hard " + target,
        () -> {
          try (Repository repo = openExisting()) {
            ObjectId to = resolveCommit(repo, target);
            try (Git git = Git.wrap(repo)) {
              if (!git.status().call().isClean()) {
                try {
                  commitEverything(git, "Uncommitted changes before rollback to " + target, false);
                } catch (EmptyCommitException onlyUntrackedNoise) {
                  // status saw differences that add -A does not record; nothing to keep
                }
              }
              ObjectId from = repo.resolve(Constants.HEAD);
              if (!from.equals(to)) {
                keepReachable(repo, from, target);
              }
              git.reset().setMode(ResetType.HARD).setRef(to.name()).call();
              return new Rollback(from.name(), target, to.name());
            }
          }
        });
  }

  @Override
  public Path archiveAndWipe(Path archiveRoot, Instant now) {
    Path root = archiveRoot.toAbsolutePath().normalize();
    if (root.startsWith(dir)) {
      throw new IllegalArgumentException(
          "the archive root " + root + " must not be inside the brain " + dir);
    }
    return locked(
        "archive",
        () -> {
          Files.createDirectories(root);
          Files.createDirectories(dir);
          String name = dir.getFileName() + "-" + ARCHIVE_STAMP.format(now);
          Path archive = root.resolve(name);
          for (int n = 2; Files.exists(archive); n++) {
            archive = root.resolve(name + "-" + n);
          }
          try {
            Files.move(dir, archive, StandardCopyOption.ATOMIC_MOVE);
          } catch (AtomicMoveNotSupportedException otherFileSystem) {
            FileTrees.copy(dir, archive);
            FileTrees.delete(dir);
          }
          Files.createDirectories(dir);
          return archive;
        });
  }

  @Override
  public String toString() {
    return "LocalBrain[" + dir + "]";
  }

  private RevCommit commitEverything(Git git, String message, boolean allowEmpty)
      throws GitAPIException {
    // setAll(true) is git add -A: files deleted from the working tree leave the index too.
    git.add().addFilepattern(".").setAll(true).call();
    PersonIdent who = now();
    return git.commit()
        .setMessage(message)
        .setAuthor(who)
        .setCommitter(who)
        .setAllowEmpty(allowEmpty)
        .setNoVerify(true)
        .setSign(false)
        .call();
  }

  /** Points {@code refs/rolled-back/<hash>} at the commit a rollback leaves. */
  private void keepReachable(Repository repo, ObjectId commit, String target) throws IOException {
    RefUpdate update = repo.updateRef(ROLLED_BACK + commit.name());
    update.setNewObjectId(commit);
    update.setRefLogMessage("rollback to " + target, false);
    RefUpdate.Result result = update.update();
    switch (result) {
      case NEW, NO_CHANGE, FAST_FORWARD, FORCED -> {}
      default ->
          throw new BrainException.Failed(
              dir, "keeping " + commit.name() + " reachable", "ref update " + result);
    }
  }

  /**
   * A tag name or an abbreviated hash, nothing else: the SSH brain passes the target to the {@code
   * git} CLI, so both must accept exactly the same, plain names.
   */
  private ObjectId resolveCommit(Repository repo, String target) throws IOException {
    if (repo == null || repo.resolve(Constants.HEAD) == null) {
      throw new BrainException.UnknownTarget(dir, target, "the brain has no commits yet");
    }
    String tagRef = Constants.R_TAGS + target;
    Ref tag = Repository.isValidRefName(tagRef) ? repo.exactRef(tagRef) : null;
    if (tag != null) {
      ObjectId id = peeled(repo.getRefDatabase(), tag);
      if (!isCommit(repo, id)) {
        throw new BrainException.UnknownTarget(dir, target, "the tag does not point at a commit");
      }
      return id;
    }
    if (!ABBREVIATED_HASH.matcher(target).matches()) {
      throw new BrainException.UnknownTarget(dir, target, "no such tag");
    }
    List<ObjectId> commits = new ArrayList<>();
    try (ObjectReader reader = repo.newObjectReader()) {
      for (ObjectId id : reader.resolve(AbbreviatedObjectId.fromString(target))) {
        if (isCommit(repo, id)) {
          commits.add(id);
        }
      }
    }
    return switch (commits.size()) {
      case 0 -> throw new BrainException.UnknownTarget(dir, target, "no such tag or commit");
      case 1 -> commits.get(0);
      default ->
          throw new BrainException.UnknownTarget(
              dir, target, "ambiguous, " + commits.size() + " commits start with it");
    };
  }

  private static boolean isCommit(Repository repo, ObjectId id) throws IOException {
    try (ObjectReader reader = repo.newObjectReader()) {
      return reader.has(id) && reader.open(id).getType() == Constants.OBJ_COMMIT;
    }
  }

  /** Every commit with a stable tag, and its newest one (should a commit carry several). */
  private static Map<String, StableTag> stableTagsByCommit(Repository repo) throws IOException {
    RefDatabase refs = repo.getRefDatabase();
    Map<String, StableTag> byCommit = new HashMap<>();
    for (Ref ref : refs.getRefsByPrefix(Constants.R_TAGS + StableTag.PREFIX)) {
      Optional<StableTag> tag = StableTag.parse(ref.getName().substring(Constants.R_TAGS.length()));
      if (tag.isPresent()) {
        byCommit.merge(peeled(refs, ref).name(), tag.get(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
      }
    }
    return byCommit;
  }

  /** What a tag finally points at: annotated tags point at a tag object, lightweight ones not. */
  private static ObjectId peeled(RefDatabase refs, Ref ref) throws IOException {
    Ref peeled = refs.peel(ref);
    return peeled.getPeeledObjectId() != null ? peeled.getPeeledObjectId() : peeled.getObjectId();
  }

  private Optional<Head> headOf(Repository repo) throws IOException {
    ObjectId head = repo.resolve(Constants.HEAD);
    if (head == null) {
      return Optional.empty();
    }
    StableTag tag = stableTagsByCommit(repo).get(head.name());
    return Optional.of(new Head(head.name(), Optional.ofNullable(tag).map(StableTag::name)));
  }

  private static RevCommit parseCommit(Repository repo, ObjectId id) throws IOException {
    try (RevWalk walk = new RevWalk(repo)) {
      return walk.parseCommit(id);
    }
  }

  private static Instant timeOf(RevCommit commit) {
    return commit.getCommitterIdent().getWhenAsInstant();
  }

  private PersonIdent now() {
    return new PersonIdent(identity.name(), identity.email(), clock.instant(), ZoneOffset.UTC);
  }

  /** The brain's repository, or null if the brain is not one (yet, or since a rebirth). */
  private Repository openExisting() throws IOException {
    if (!Files.exists(dir.resolve(Constants.DOT_GIT))) {
      return null;
    }
    // Only this directory's own .git: never a repository found further up the tree.
    return new FileRepositoryBuilder()
        .setWorkTree(dir.toFile())
        .setFS(NO_HOOKS)
        .setMustExist(true)
        .build();
  }

  private Repository openOrInit() throws IOException, GitAPIException {
    if (!Files.exists(dir.resolve(Constants.DOT_GIT))) {
      Files.createDirectories(dir);
      Git.init().setDirectory(dir.toFile()).setInitialBranch(BRANCH).setFs(NO_HOOKS).call().close();
    }
    return openExisting();
  }

  private static void requireTarget(String target) {
    if (target == null || target.isBlank()) {
      throw new IllegalArgumentException("target must be a tag or a commit hash, not blank");
    }
  }

  /** JGit and file work that may fail; the lock is held while it runs. */
  @FunctionalInterface
  private interface GitWork<T> {
    T run() throws IOException, GitAPIException;
  }

  private <T> T locked(String operation, GitWork<T> work) {
    lock.lock();
    try {
      return work.run();
    } catch (IOException
        | UncheckedIOException
        | GitAPIException
        | JGitInternalException
        | RevWalkException e) {
      throw new BrainException.Failed(dir, operation, e);
    } finally {
      lock.unlock();
    }
  }

  /** The platform's file system support with hook lookup switched off. */
  private static final class NoHooks extends FS_POSIX {
    NoHooks(FS src) {
      super(src);
    }

    @Override
    public FS newInstance() {
      return new NoHooks(this);
    }

    @Override
    public File findHook(Repository repository, String hookName) {
      return null;
    }
  }
}
