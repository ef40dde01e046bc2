package dev.jodo.kernel.agents.brain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.agents.ssh.SshConnection;
import dev.jodo.kernel.testing.TestSshServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SshBrain}: {@link Brain}'s contract done by the {@code git} command line over a real SSH
 * server on loopback, checked against what {@link LocalBrain} (JGit) reads from the same
 * repository.
 */
class SshBrainTest {
  @TempDir Path temp;
  private TestSshServer server;
  private SshConnection ssh;
  private Path dir;
  private SshBrain brain;

  @BeforeEach
  void setUp() {
    server = TestSshServer.start(temp.resolve("server"));
    ssh =
        new SshConnection(
            "127.0.0.1",
            server.port(),
            System.getProperty("user.name"),
            server.clientKey(),
            temp.resolve("known_hosts"),
            Duration.ofSeconds(10));
    dir = temp.resolve("brain");
    brain = new SshBrain(ssh, dir, Brain.Identity.KERNEL);
  }

  @AfterEach
  void tearDown() {
    ssh.close();
    server.close();
  }

  private LocalBrain jgit() {
    return new LocalBrain(dir, Clock.systemUTC(), Brain.Identity.KERNEL);
  }

  @Test
  void ensureRepositoryCommitsWhatIsThereOnceAndCommitAllSeesEveryChange() throws IOException {
    write("main.py", "v1");
    Brain.Head first = brain.ensureRepository();
    assertThat(brain.ensureRepository()).isEqualTo(first);
    assertThat(brain.history(10))
        .extracting(Brain.HistoryEntry::message)
        .containsExactly("Initial commit");

    write("main.py", "v2");
    write("lib/new.py", "new");
    Brain.Committed changed = brain.commitAll("Two\n\nwith a body, and 'quotes' and $VARS");
    assertThat(changed.changed()).isTrue();
    assertThat(changed.hash()).hasSize(40).isNotEqualTo(first.hash());
    Files.delete(dir.resolve("lib/new.py"));
    Brain.Committed deleted = brain.commitAll("Three");
    Brain.Committed nothing = brain.commitAll("Nothing");
    assertThat(nothing.changed()).isFalse();
    assertThat(nothing.hash()).isEqualTo(deleted.hash());
    assertThat(nothing.timestamp()).isEqualTo(deleted.timestamp());

    // JGit reads the same history from the repository git wrote.
    assertThat(jgit().history(10))
        .extracting(Brain.HistoryEntry::hash)
        .containsExactlyElementsOf(
            brain.history(10).stream().map(Brain.HistoryEntry::hash).toList());
    assertThat(brain.history(10).get(1).message())
        .isEqualTo("Two\n\nwith a body, and 'quotes' and $VARS");
    assertThat(brain.history(2)).hasSize(2);
  }

  @Test
  void aMessageIsKeptAsGivenAsJGitKeepsIt() throws IOException {
    brain.ensureRepository();
    String message = "Subject\n\n# not a comment\n\n\n  indented  \nlast";
    write("main.py", "v1");
    brain.commitAll(message);
    assertThat(brain.history(1).get(0).message()).isEqualTo(message);
    assertThat(jgit().history(1).get(0).message()).isEqualTo(message);
  }

  @Test
  void ignoredFilesStayOutOfCommits() throws Exception {
    write(".gitignore", "__pycache__/\n");
    write("__pycache__/main.cpython-312.pyc", "bytecode");
    write("main.py", "code");
    Brain.Committed done = brain.commitAll("Code");
    assertThat(git("ls-tree", "-r", "--name-only", done.hash()).lines())
        .containsExactly(".gitignore", "main.py");
  }

  @Test
  void rollbackToTheCurrentHeadChangesNothing() throws Exception {
    write("main.py", "v1");
    String hash = brain.commitAll("One").hash();
    assertThat(brain.rollback(hash)).isEqualTo(new Brain.Rollback(hash, hash, hash));
    assertThat(git("for-each-ref", "refs/rolled-back/")).isEmpty();
    assertThat(brain.head()).contains(new Brain.Head(hash, Optional.empty()));
  }

  @Test
  void concurrentCommitsTakeTurnsAndAllLand() throws Exception {
    brain.ensureRepository();
    List<Thread> workers = new ArrayList<>();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    for (int t = 0; t < 3; t++) {
      int worker = t;
      workers.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < 2; i++) {
                        write("w" + worker + "/f" + i, worker + ":" + i);
                        brain.commitAll("worker " + worker + " file " + i);
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    for (Thread worker : workers) {
      worker.join(Duration.ofMinutes(1));
    }
    assertThat(failures).isEmpty();
    assertThat(git("ls-tree", "-r", "--name-only", "HEAD").lines()).hasSize(6);
    assertThat(git("status", "--porcelain")).isEmpty();
    assertThat(git("fsck", "--strict")).doesNotContain("error");
  }

  @Test
  void aBrainWithoutRepositoryIsCommittedFromScratchAndReadingItCreatesNothing()
      throws IOException {
    assertThat(brain.history(5)).isEmpty();
    assertThat(brain.head()).isEmpty();
    assertThat(brain.newestStableTag()).isEmpty();
    assertThat(dir).doesNotExist();
    assertThatThrownBy(() -> brain.rollback("stable-v1"))
        .isInstanceOf(BrainException.UnknownTarget.class)
        .hasMessage("unknown target stable-v1 in " + dir + ": the brain has no commits yet");

    Files.createDirectories(dir);
    Brain.Committed first = brain.commitAll("First, even if empty");
    assertThat(first.changed()).isTrue();
    assertThat(brain.head()).contains(new Brain.Head(first.hash(), Optional.empty()));
  }

  @Test
  void stableTagsCountUpNumericallyAndAreWhatJGitSees() throws Exception {
    write("main.py", "v0");
    String first = brain.commitAll("Commit 0").hash();
    assertThat(brain.tagStable(first.substring(0, 8))).isEqualTo("stable-v1");
    git("tag", "stable-v9", first); // as if eight more had come and gone
    write("main.py", "v1");
    String second = brain.commitAll("Commit 1").hash();
    assertThat(brain.tagStable(second)).isEqualTo("stable-v10");
    assertThat(brain.tagStable(second)).as("no second tag").isEqualTo("stable-v10");
    assertThat(brain.newestStableTag()).contains("stable-v10");
    assertThat(brain.head()).contains(new Brain.Head(second, Optional.of("stable-v10")));
    assertThat(jgit().newestStableTag()).contains("stable-v10");
    assertThat(brain.history(2))
        .extracting(e -> e.tag().orElse(""))
        .containsExactly("stable-v10", "stable-v9");
    assertThat(jgit().history(2))
        .extracting(e -> e.tag().orElse(""))
        .containsExactly("stable-v10", "stable-v9");
    assertThat(git("cat-file", "-t", "stable-v10").strip()).as("annotated").isEqualTo("tag");
  }

  @Test
  void rollbackCommitsUncommittedWorkKeepsTheLeftCommitAndResetsHard() throws Exception {
    write("main.py", "good");
    String good = brain.commitAll("Good").hash();
    brain.tagStable(good);
    write("main.py", "bad");
    brain.commitAll("Bad");
    write("main.py", "worse, uncommitted");
    write("scratch.txt", "untracked");

    Brain.Rollback done = brain.rollback("stable-v1");

    assertThat(done.to()).isEqualTo("stable-v1");
    assertThat(done.toHash()).isEqualTo(good);
    assertThat(Files.readString(dir.resolve("main.py"))).isEqualTo("good");
    assertThat(dir.resolve("scratch.txt")).doesNotExist();
    assertThat(brain.head()).contains(new Brain.Head(good, Optional.of("stable-v1")));
    String kept = git("log", "-1", "--format=%s", "refs/rolled-back/" + done.from());
    assertThat(kept.strip()).isEqualTo("Uncommitted changes before rollback to stable-v1");

    Brain.Rollback byHash = brain.rollback(done.from().substring(0, 7));
    assertThat(Files.readString(dir.resolve("main.py"))).isEqualTo("worse, uncommitted");
    assertThat(byHash.toHash()).isEqualTo(done.from());
  }

  @Test
  void unknownTargetsAreRefusedAndLeaveTheBrainAlone() throws IOException {
    write("main.py", "v1");
    String hash = brain.commitAll("One").hash();
    write("main.py", "dirty");
    for (String[] target :
        List.of(
            new String[] {"stable-v99", "no such tag"},
            new String[] {"deadbeef", "no such tag or commit"},
            new String[] {"HEAD~1", "no such tag"},
            new String[] {"../../HEAD", "no such tag"},
            new String[] {"a b", "no such tag"},
            new String[] {"x'; touch pwned; '", "no such tag"})) {
      assertThatThrownBy(() -> brain.rollback(target[0]))
          .isInstanceOf(BrainException.UnknownTarget.class)
          .hasMessage("unknown target " + target[0] + " in " + dir + ": " + target[1]);
    }
    assertThat(brain.head()).contains(new Brain.Head(hash, Optional.empty()));
    assertThat(Files.readString(dir.resolve("main.py"))).isEqualTo("dirty");
    assertThat(temp.resolve("pwned")).doesNotExist();
  }

  @Test
  void archiveAndWipeKeepsTheHistoryAndLeavesAnEmptyBrain() throws IOException {
    write("main.py", "v1");
    String first = brain.commitAll("One").hash();
    Path archive =
        brain.archiveAndWipe(temp.resolve("archive"), Instant.parse("2026-11-22T10:00:00Z"));
    assertThat(archive).isEqualTo(temp.resolve("archive/brain-20261122T100000Z"));
    assertThat(archive.resolve(".git")).isDirectory();
    assertThat(
            new LocalBrain(archive, Clock.systemUTC(), Brain.Identity.KERNEL)
                .head()
                .orElseThrow()
                .hash())
        .isEqualTo(first);
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
    Path second =
        brain.archiveAndWipe(temp.resolve("archive"), Instant.parse("2026-11-22T10:00:00Z"));
    assertThat(second).isEqualTo(temp.resolve("archive/brain-20261122T100000Z-2"));
  }

  @Test
  void hooksNeverRunAndGitFailuresCarryGitsMessage() throws IOException {
    brain.ensureRepository();
    Path marker = temp.resolve("hook-ran");
    for (String hook : List.of("pre-commit", "commit-msg", "post-commit")) {
      Path file = dir.resolve(".git/hooks/" + hook);
      Files.createDirectories(file.getParent());
      Files.writeString(file, "#!/bin/sh\ntouch " + marker + "\nexit 1\n");
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    write("main.py", "v1");
    assertThat(brain.commitAll("Despite the hooks").changed()).isTrue();
    assertThat(marker).doesNotExist();

    Files.writeString(dir.resolve(".git/index.lock"), "");
    write("main.py", "v2");
    assertThatThrownBy(() -> brain.commitAll("Blocked"))
        .isInstanceOf(BrainException.Failed.class)
        .hasMessageStartingWith("git commit failed in " + dir + ": ")
        .hasMessageContaining("index.lock");
  }

  private void write(String path, String content) throws IOException {
    Path file = dir.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }

  private String git(String... args) throws Exception {
    Process process =
        new ProcessBuilder(
                Stream.concat(Stream.of("git", "-C", dir.toString()), Stream.of(args)).toList())
            .redirectErrorStream(true)
            .start();
    String out = new String(process.getInputStream().readAllBytes());
    process.waitFor();
    return out;
  }
}
