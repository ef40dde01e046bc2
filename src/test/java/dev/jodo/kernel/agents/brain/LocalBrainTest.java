package dev.jodo.kernel.agents.brain;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.jodo.kernel.agents.brain.Brain.Committed;
import dev.jodo.kernel.agents.brain.Brain.Head;
import dev.jodo.kernel.agents.brain.Brain.HistoryEntry;
import dev.jodo.kernel.agents.brain.Brain.Rollback;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalBrainTest {
  private static final Instant START = Instant.parse("2026-02-18T14:32:07Z");

  @TempDir Path temp;
  private Path dir;
  private SteppingClock clock;
  private LocalBrain brain;

  @BeforeEach
  void setUp() {
    dir = temp.resolve("brain");
    clock = new SteppingClock(START);
    brain = new LocalBrain(dir, clock, Brain.Identity.KERNEL);
  }

  @Test
  void ensureRepositoryCommitsWhatIsThereOnce() throws IOException {
    write("main.py", "print('hi')\n");

    Head first = brain.ensureRepository();
    clock.advance(Duration.ofMinutes(1));
    Head again = brain.ensureRepository();

    assertThat(again).isEqualTo(first);
    assertThat(first.stableTag()).isEmpty();
    assertThat(brain.history(10))
        .extracting(HistoryEntry::hash, HistoryEntry::message, HistoryEntry::timestamp)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(first.hash(), "Initial commit", START));
    assertThat(filesAt(first.hash())).containsExactly(Map.entry("main.py", "print('hi')\n"));
  }

  @Test
  void ensureRepositoryCreatesTheDirectoryAndAnEmptyFirstCommit() throws IOException {
    Head head = brain.ensureRepository();

    assertThat(Files.isDirectory(dir.resolve(".git"))).isTrue();
    assertThat(brain.head()).contains(head);
    assertThat(filesAt(head.hash())).isEmpty();
  }

  @Test
  void commitAllStagesNewModifiedAndDeletedFiles() throws IOException {
    write("main.py", "v1");
    write("old.py", "gone soon");
    brain.ensureRepository();

    write("main.py", "v2"); // same length, same second: must still be seen as modified
    Files.delete(dir.resolve("old.py"));
    write("web/app.py", "new");
    Committed done = brain.commitAll("Added websocket support to chat");

    assertThat(done.changed()).isTrue();
    assertThat(done.timestamp()).isEqualTo(START);
    assertThat(filesAt(done.hash()))
        .containsExactly(entry("main.py", "v2"), entry("web/app.py", "new"));
    assertThat(brain.head()).contains(new Head(done.hash(), Optional.empty()));
    assertThat(brain.history(1).get(0).message()).isEqualTo("Added websocket support to chat");
  }

  @Test
  void nothingToCommitAnswersWithTheUnchangedHead() throws IOException {
    write("main.py", "v1");
    Committed first = brain.commitAll("First");
    clock.advance(Duration.ofMinutes(1));

    Committed second = brain.commitAll("Nothing new");

    assertThat(second).isEqualTo(new Committed(first.hash(), START, false));
    assertThat(brain.history(10)).hasSize(1);
  }

  @Test
  void commitAllMakesARepositoryOfABrainWithoutOne() throws IOException {
    write("seed.py", "boot");

    Committed done = brain.commitAll("Seed");

    assertThat(done.changed()).isTrue();
    assertThat(brain.history(10)).extracting(HistoryEntry::message).containsExactly("Seed");
    assertThat(filesAt(done.hash())).containsExactly(entry("seed.py", "boot"));
  }

  @Test
  void theFirstCommitOfAnEmptyBrainIsMadeEvenIfEmpty() throws IOException {
    Files.createDirectories(dir);

    Committed first = brain.commitAll("Nothing yet");
    Committed second = brain.commitAll("Still nothing");

    assertThat(first.changed()).isTrue();
    assertThat(second).isEqualTo(new Committed(first.hash(), START, false));
    assertThat(filesAt(first.hash())).isEmpty();
  }

  @Test
  void ignoredFilesStayOutOfCommits() throws IOException {
    write(".gitignore", "__pycache__/\n");
    write("__pycache__/main.cpython-312.pyc", "bytecode");
    write("main.py", "code");

    Committed done = brain.commitAll("Code");

    assertThat(filesAt(done.hash()).keySet()).containsExactly(".gitignore", "main.py");
  }

  @Test
  void readingABrainWithoutRepositoryFindsNothingAndCreatesNothing() {
    assertThat(brain.history(10)).isEmpty();
    assertThat(brain.head()).isEmpty();
    assertThat(brain.newestStableTag()).isEmpty();
    assertThat(dir).doesNotExist();
  }

  @Test
  void historyListsNewestFirstWithStableTagsUpToTheLimit() throws IOException {
    List<String> hashes = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      write("main.py", "v" + i);
      hashes.add(brain.commitAll("Change " + i).hash());
      clock.advance(Duration.ofMinutes(1));
    }
    assertThat(brain.tagStable(hashes.get(1))).isEqualTo("stable-v1");

    assertThat(brain.history(10))
        .containsExactly(
            new HistoryEntry(hashes.get(3), "Change 4", START.plusSeconds(180), Optional.empty()),
            new HistoryEntry(hashes.get(2), "Change 3", START.plusSeconds(120), Optional.empty()),
            new HistoryEntry(
                hashes.get(1), "Change 2", START.plusSeconds(60), Optional.of("stable-v1")),
            new HistoryEntry(hashes.get(0), "Change 1", START, Optional.empty()));
    assertThat(brain.history(2))
        .extracting(HistoryEntry::message)
        .containsExactly("Change 4", "Change 3");
    assertThatThrownBy(() -> brain.history(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("history limit must be at least 1: 0");
  }

  @Test
  void stableTagsCountUpNumericallyPastNine() throws Exception {
    write("main.py", "v1");
    String first = brain.commitAll("One").hash();
    write("main.py", "v2");
    String second = brain.commitAll("Two").hash();
    // Tags made by someone else's git: lightweight, and names that only look stable.
    try (Git git = Git.open(dir.toFile())) {
      git.tag().setName("stable-v9").setAnnotated(false).setObjectId(commit(git, first)).call();
      git.tag().setName("stable-v10-rc").setAnnotated(false).setObjectId(commit(git, first)).call();
      git.tag().setName("stable-v099").setAnnotated(false).setObjectId(commit(git, first)).call();
    }

    assertThat(brain.newestStableTag()).contains("stable-v9");
    assertThat(brain.tagStable(second)).isEqualTo("stable-v10");
    assertThat(brain.newestStableTag()).contains("stable-v10");
    assertThat(brain.head()).contains(new Head(second, Optional.of("stable-v10")));
    assertThat(brain.history(2))
        .extracting(HistoryEntry::tag)
        .containsExactly(Optional.of("stable-v10"), Optional.of("stable-v9"));
  }

  @Test
  void aCommitWithAStableTagKeepsItAndGetsNoSecond() throws IOException {
    write("main.py", "v1");
    String hash = brain.commitAll("One").hash();

    assertThat(brain.tagStable(hash)).isEqualTo("stable-v1");
    assertThat(brain.tagStable(hash.substring(0, 7))).isEqualTo("stable-v1");
    assertThat(stableTagNames()).containsExactly("stable-v1");
  }

  @Test
  void stableTagsAreAnnotatedByTheKernel() throws Exception {
    write("main.py", "v1");
    String hash = brain.commitAll("One").hash();
    clock.advance(Duration.ofMinutes(5));

    brain.tagStable(hash);

    try (Git git = Git.open(dir.toFile());
        RevWalk walk = new RevWalk(git.getRepository())) {
      Ref ref = git.getRepository().exactRef("refs/tags/stable-v1");
      var tag = walk.parseTag(ref.getObjectId());
      assertThat(tag.getObject().name()).isEqualTo(hash);
      assertThat(tag.getTaggerIdent().getName()).isEqualTo("Jodo Kernel");
      assertThat(tag.getTaggerIdent().getEmailAddress()).isEqualTo("kernel@jodo.local");
      assertThat(tag.getTaggerIdent().getWhenAsInstant()).isEqualTo(START.plusSeconds(300));
    }
  }

  @Test
  void rollbackToAStableTagRestoresItsFilesAndKeepsTheLaterCommits() throws IOException {
    write("main.py", "good");
    write("util.py", "helper");
    String good = brain.commitAll("Works").hash();
    brain.tagStable(good);
    write("main.py", "broken!");
    Files.delete(dir.resolve("util.py"));
    write("extra.py", "more");
    String broken = brain.commitAll("Breaks").hash();

    Rollback done = brain.rollback("stable-v1");

    assertThat(done).isEqualTo(new Rollback(broken, "stable-v1", good));
    assertThat(workingTree()).containsExactly(entry("main.py", "good"), entry("util.py", "helper"));
    assertThat(brain.head()).contains(new Head(good, Optional.of("stable-v1")));
    assertThat(brain.history(10)).extracting(HistoryEntry::hash).containsExactly(good);
    assertThat(ref(LocalBrain.ROLLED_BACK + broken)).contains(broken);
    assertThat(filesAt(broken))
        .containsExactly(entry("extra.py", "more"), entry("main.py", "broken!"));
  }

  @Test
  void rollbackToAnAbbreviatedHash() throws IOException {
    write("main.py", "v1");
    String first = brain.commitAll("One").hash();
    write("main.py", "v2");
    String second = brain.commitAll("Two").hash();

    Rollback done = brain.rollback(first.substring(0, 7));

    assertThat(done).isEqualTo(new Rollback(second, first.substring(0, 7), first));
    assertThat(workingTree()).containsExactly(entry("main.py", "v1"));
    assertThat(brain.head()).contains(new Head(first, Optional.empty()));
  }

  @Test
  void rollbackCommitsUncommittedChangesBeforeLeavingThem() throws IOException {
    write("main.py", "good");
    String good = brain.commitAll("Works").hash();
    brain.tagStable(good);
    write("main.py", "half-edited");
    write("draft.py", "untracked");

    Rollback done = brain.rollback("stable-v1");

    assertThat(done.from()).isNotEqualTo(good);
    assertThat(done.toHash()).isEqualTo(good);
    assertThat(workingTree()).containsExactly(entry("main.py", "good"));
    assertThat(ref(LocalBrain.ROLLED_BACK + done.from())).contains(done.from());
    assertThat(filesAt(done.from()))
        .containsExactly(entry("draft.py", "untracked"), entry("main.py", "half-edited"));
    assertThat(message(done.from())).isEqualTo("Uncommitted changes before rollback to stable-v1");
  }

  @Test
  void rollbackToTheCurrentHeadChangesNothing() throws IOException {
    write("main.py", "v1");
    String hash = brain.commitAll("One").hash();

    assertThat(brain.rollback(hash)).isEqualTo(new Rollback(hash, hash, hash));
    assertThat(ref(LocalBrain.ROLLED_BACK + hash)).isEmpty();
    assertThat(brain.head()).contains(new Head(hash, Optional.empty()));
  }

  @Test
  void unknownTargetsAreRefusedAndLeaveTheBrainAlone() throws IOException {
    write("main.py", "v1");
    String hash = brain.commitAll("One").hash();
    write("main.py", "dirty");

    assertUnknown("stable-v99", "no such tag");
    assertUnknown("deadbeef", "no such tag or commit");
    assertUnknown("HEAD~1", "no such tag");
    assertUnknown("../../HEAD", "no such tag");
    assertUnknown("a b", "no such tag");

    assertThat(brain.head()).contains(new Head(hash, Optional.empty()));
    assertThat(workingTree()).containsExactly(entry("main.py", "dirty"));
    assertThatThrownBy(() -> brain.tagStable("deadbeef"))
        .isInstanceOf(BrainException.UnknownTarget.class);
    assertThatThrownBy(() -> brain.rollback(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("target must be a tag or a commit hash, not blank");
  }

  @Test
  void aBrainWithoutCommitsHasNoTargets() {
    assertThatThrownBy(() -> brain.rollback("stable-v1"))
        .isInstanceOf(BrainException.UnknownTarget.class)
        .hasMessage("unknown target stable-v1 in " + dir + ": the brain has no commits yet");
  }

  @Test
  void archiveAndWipeKeepsTheHistoryInTheArchiveAndLeavesAnEmptyBrain() throws IOException {
    write("main.py", "v1");
    String first = brain.commitAll("One").hash();
    brain.tagStable(first);
    write("main.py", "v2");
    String second = brain.commitAll("Two").hash();
    Path archives = temp.resolve("archive");

    Path archive = brain.archiveAndWipe(archives, START);
    Path again = brain.archiveAndWipe(archives, START);

    assertThat(archive).isEqualTo(archives.resolve("brain-20260218T143207Z"));
    assertThat(again).isEqualTo(archives.resolve("brain-20260218T143207Z-2"));
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
    assertThat(brain.head()).isEmpty();
    assertThat(brain.history(10)).isEmpty();
    LocalBrain archived = new LocalBrain(archive, clock, Brain.Identity.KERNEL);
    assertThat(archived.history(10))
        .extracting(HistoryEntry::hash, HistoryEntry::tag)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(second, Optional.empty()),
            org.assertj.core.groups.Tuple.tuple(first, Optional.of("stable-v1")));
    assertThat(Files.readString(archive.resolve("main.py"))).isEqualTo("v2");
  }

  @Test
  void theArchiveMustNotBeInsideTheBrain() {
    assertThatThrownBy(() -> brain.archiveAndWipe(dir.resolve("archive"), START))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "the archive root " + dir.resolve("archive") + " must not be inside the brain " + dir);
  }

  @Test
  void concurrentCommitsFromManyThreadsAllLand() throws Exception {
    brain.ensureRepository();
    int threads = 8;
    int commitsEach = 5;
    CountDownLatch start = new CountDownLatch(1);
    ConcurrentLinkedQueue<Committed> results = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int worker = t;
      Thread thread =
          new Thread(
              () -> {
                try {
                  start.await();
                  for (int i = 0; i < commitsEach; i++) {
                    write("w" + worker + "/f" + i + ".txt", worker + ":" + i);
                    results.add(brain.commitAll("worker " + worker + " file " + i));
                  }
                } catch (Throwable e) {
                  failures.add(e);
                }
              });
      thread.start();
      workers.add(thread);
    }
    start.countDown();
    for (Thread thread : workers) {
      thread.join(TimeUnit.MINUTES.toMillis(2));
    }

    assertThat(failures).isEmpty();
    assertThat(results).hasSize(threads * commitsEach);
    List<String> changed =
        results.stream().filter(Committed::changed).map(Committed::hash).toList();
    List<HistoryEntry> history = brain.history(1000);
    assertThat(history).hasSize(changed.size() + 1);
    assertThat(history).extracting(HistoryEntry::hash).containsAll(changed);
    Map<String, String> files = filesAt(brain.head().orElseThrow().hash());
    assertThat(files).hasSize(threads * commitsEach);
    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < commitsEach; i++) {
        assertThat(files).containsEntry("w" + t + "/f" + i + ".txt", t + ":" + i);
      }
    }
    gitIfInstalled("fsck", "--strict");
  }

  @Test
  void theGitCommandLineReadsWhatJGitWrote() throws IOException {
    write("main.py", "v1");
    String first = brain.commitAll("One").hash();
    assumeThat(gitIfInstalled("--version")).as("git is installed").isPresent();
    brain.tagStable(first);
    write("main.py", "v2");
    String second = brain.commitAll("Two").hash();

    assertThat(gitIfInstalled("log", "--format=%H %s %an <%ae>"))
        .contains(
            second
                + " Two Jodo Kernel <kernel@jodo.local>\n"
                + first
                + " One Jodo Kernel <kernel@jodo.local>\n");
    assertThat(gitIfInstalled("describe", "--tags", "--exact-match", first))
        .contains("stable-v1\n");
    assertThat(gitIfInstalled("status", "--porcelain")).contains("");
    assertThat(gitIfInstalled("branch", "--show-current")).contains("main\n");
    assertThat(gitIfInstalled("fsck", "--strict")).isPresent();
  }

  @Test
  void theBrainsHooksNeverRun() throws IOException {
    brain.ensureRepository();
    Path marker = temp.resolve("hook-ran");
    for (String hook : List.of("pre-commit", "commit-msg", "post-commit")) {
      Path file = dir.resolve(".git/hooks/" + hook);
      Files.createDirectories(file.getParent());
      Files.writeString(file, "#!/bin/sh\ntouch " + marker + "\nexit 1\n");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    write("main.py", "v1");

    Committed done = brain.commitAll("Despite the hooks");

    assertThat(done.changed()).isTrue();
    assertThat(marker).doesNotExist();
  }

  @Test
  void gitFailuresCarryGitsMessage() throws IOException {
    brain.ensureRepository();
    Files.writeString(dir.resolve(".git/index.lock"), "");
    write("main.py", "v1");

    assertThatThrownBy(() -> brain.commitAll("Blocked"))
        .isInstanceOf(BrainException.Failed.class)
        .hasMessageStartingWith("git commit failed in " + dir + ": ")
        .hasMessageContaining("index.lock");
  }

  private void assertUnknown(String target, String why) {
    assertThatThrownBy(() -> brain.rollback(target))
        .isInstanceOf(BrainException.UnknownTarget.class)
        .hasMessage("unknown target " + target + " in " + dir + ": " + why)
        .extracting(e -> ((BrainException.UnknownTarget) e).target())
        .isEqualTo(target);
  }

  private void write(String path, String content) throws IOException {
    Path file = dir.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }

  private static Map.Entry<String, String> entry(String path, String content) {
    return Map.entry(path, content);
  }

  /** The working tree's files (without .git), sorted by path. */
  private Map<String, String> workingTree() throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.filter(Files::isRegularFile).toList()) {
        String path = dir.relativize(p).toString();
        if (!path.startsWith(".git/")) {
          files.put(path, Files.readString(p));
        }
      }
    }
    return files;
  }

  /** The files a commit records, sorted by path, read with plain JGit. */
  private Map<String, String> filesAt(String hash) throws IOException {
    try (Repository repo = open();
        RevWalk walk = new RevWalk(repo);
        TreeWalk tree = new TreeWalk(repo)) {
      tree.addTree(walk.parseCommit(repo.resolve(hash)).getTree());
      tree.setRecursive(true);
      Map<String, String> files = new TreeMap<>();
      while (tree.next()) {
        files.put(
            tree.getPathString(), new String(repo.open(tree.getObjectId(0)).getBytes(), UTF_8));
      }
      return files;
    }
  }

  private String message(String hash) throws IOException {
    try (Repository repo = open();
        RevWalk walk = new RevWalk(repo)) {
      return walk.parseCommit(repo.resolve(hash)).getFullMessage();
    }
  }

  private Optional<String> ref(String name) throws IOException {
    try (Repository repo = open()) {
      return Optional.ofNullable(repo.exactRef(name)).map(r -> r.getObjectId().name());
    }
  }

  private List<String> stableTagNames() throws IOException {
    try (Repository repo = open()) {
      return repo.getRefDatabase().getRefsByPrefix(Constants.R_TAGS).stream()
          .map(r -> r.getName().substring(Constants.R_TAGS.length()))
          .toList();
    }
  }

  private Repository open() throws IOException {
    return new FileRepositoryBuilder().setWorkTree(dir.toFile()).setMustExist(true).build();
  }

  private static org.eclipse.jgit.revwalk.RevCommit commit(Git git, String hash)
      throws IOException {
    try (RevWalk walk = new RevWalk(git.getRepository())) {
      return walk.parseCommit(git.getRepository().resolve(hash));
    }
  }

  /**
   * Runs the real {@code git} in the brain; empty if git is not installed. A git that runs and
   * fails fails the test.
   */
  private Optional<String> gitIfInstalled(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("git", "-C", dir.toString()));
    command.addAll(List.of(args));
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException notInstalled) {
      return Optional.empty();
    }
    try {
      String output = new String(process.getInputStream().readAllBytes(), UTF_8);
      assertThat(process.waitFor(1, TimeUnit.MINUTES)).isTrue();
      assertThat(process.exitValue()).as("git %s: %s", command, output).isZero();
      return Optional.of(output);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for git", e);
    }
  }

  /** A clock that stands still until a test moves it. */
  private static final class SteppingClock extends Clock {
    private volatile Instant now;

    SteppingClock(Instant start) {
      now = start;
    }

    void advance(Duration step) {
      now = now.plus(step);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException("the brain only asks for instants");
    }
  }
}
