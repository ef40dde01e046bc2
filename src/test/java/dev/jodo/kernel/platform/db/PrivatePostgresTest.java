package dev.jodo.kernel.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PrivatePostgresTest {
  private final List<Path> cleanup = new ArrayList<>();

  @AfterEach
  void removeClusters() throws Exception {
    for (Path dir : cleanup) {
      if (Files.exists(dir)) {
        try (Stream<Path> files = Files.walk(dir)) {
          files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  @Test
  void homeTheServerUserCannotReachKeepsItsClusterElsewhereAndRemembersWhere() throws Exception {
    assumeTrue(ServerAccount.isRoot(), "only a kernel running as root uses another server user");
    // Like a checkout in /root: a directory only its owner may enter.
    Path locked =
        Files.createTempDirectory(
            "jodo-locked-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    cleanup.add(locked);
    Path home = locked.resolve("home");
    List<String> progress = new ArrayList<>();

    PrivatePostgres postgres =
        PrivatePostgres.start(home, new DatabaseTarget.Private(2), progress::add);
    Path relocated = Path.of(Files.readString(home.resolve("postgres.location")).strip());
    cleanup.add(relocated);
    try {
      assertThat(relocated.getParent()).isEqualTo(Path.of("/var/lib/jodo-kernel/clusters"));
      assertThat(relocated.resolve("data/PG_VERSION")).exists();
      assertThat(progress.get(0))
          .isEqualTo(
              "PostgreSQL's user cannot reach "
                  + home
                  + "; keeping this kernel's cluster in "
                  + relocated
                  + " (recorded in "
                  + home.resolve("postgres.location")
                  + ")");
      DatabaseTarget.External target = postgres.target();
      try (Connection c =
          DriverManager.getConnection(target.jdbcUrl(), target.user(), target.password().value())) {
        assertThat(c.isValid(2)).isTrue();
      }
      assertThat(PrivatePostgres.dataRoot(home)).isEqualTo(relocated);
    } finally {
      postgres.close();
    }
    assertThat(PrivatePostgres.stopIfRunning(home, line -> {})).isFalse();

    // A second start finds the same cluster through the pointer and says nothing about moving.
    progress.clear();
    try (PrivatePostgres again =
        PrivatePostgres.start(home, new DatabaseTarget.Private(2), progress::add)) {
      assertThat(again.startedHere()).isTrue();
      assertThat(progress).noneMatch(line -> line.contains("cannot reach"));
      assertThat(PrivatePostgres.dataRoot(home)).isEqualTo(relocated);
    }
  }

  @Test
  void reachableHomeKeepsTheClusterInside() throws Exception {
    Path open =
        Files.createTempDirectory(
            "jodo-open-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    cleanup.add(open);
    try (PrivatePostgres postgres =
        PrivatePostgres.start(open, new DatabaseTarget.Private(2), line -> {})) {
      assertThat(postgres.startedHere()).isTrue();
      assertThat(open.resolve("postgres/data/PG_VERSION")).exists();
      assertThat(open.resolve("postgres.location")).doesNotExist();
    }
  }
}
