package dev.jodo.kernel.platform.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Runs real PostgreSQL binaries; as root, through the jodo-postgres user. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalPostgresTest {
  private final List<String> progress = new CopyOnWriteArrayList<>();
  private Path sandbox;
  private Path dataRoot;
  private LocalPostgres postgres;
  private LocalPostgres.Connection first;
  private List<String> firstProgress;

  @BeforeAll
  void provision() throws IOException {
    // Under /tmp and world-traversable, so jodo-postgres can reach it when the tests run as root.
    sandbox =
        Files.createTempDirectory(
            Path.of("/tmp"),
            "jodo-local-postgres-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.setPosixFilePermissions(sandbox, PosixFilePermissions.fromString("rwxr-xr-x"));
    dataRoot = sandbox.resolve("postgres");
    postgres = newLocalPostgres(dataRoot);
    first = postgres.ensureRunning();
    firstProgress = List.copyOf(progress);
  }

  @AfterAll
  void stopAndCleanUp() {
    try {
      if (postgres != null) {
        postgres.stop();
      }
    } finally {
      ClusterLayout.deleteTree(sandbox);
    }
  }

  @Test
  void firstStartInitialisesClusterAndCreatesKernelDatabase() throws SQLException {
    assertThat(first.startedHere()).isTrue();
    assertThat(first.user()).isEqualTo("jodo");
    assertThat(first.jdbcUrl())
        .isEqualTo("jdbc:postgresql://127.0.0.1:" + first.port() + "/jodo_kernel");
    assertThat(firstProgress).hasSize(2);
    assertThat(firstProgress.get(0))
        .isEqualTo("initialising a private PostgreSQL cluster in " + dataRoot.resolve("data"));
    assertThat(firstProgress.get(1))
        .matches("starting PostgreSQL \\d+\\.\\d+ on 127\\.0\\.0\\.1:" + first.port());
    assertThat(
            query(
                first,
                "SELECT current_database() || ' ' || current_user || ' '"
                    + " || current_setting('listen_addresses') || ' '"
                    + " || current_setting('fsync') || ' '"
                    + " || current_setting('shared_buffers') || ' '"
                    + " || current_setting('max_connections') || ' '"
                    + " || pg_encoding_to_char(encoding) FROM pg_database"
                    + " WHERE datname = current_database()"))
        .isEqualTo("jodo_kernel jodo 127.0.0.1 on 128MB 200 UTF8");
  }

  @Test
  void ensureRunningAgainReusesTheRunningServer() {
    LocalPostgres.Connection before = postgres.ensureRunning();
    LocalPostgres.Connection again = postgres.ensureRunning();
    // A second kernel process sees the same cluster through its own instance.
    LocalPostgres.Connection other = newLocalPostgres(dataRoot).ensureRunning();

    assertThat(again.port()).isEqualTo(before.port());
    assertThat(again.startedHere()).isFalse();
    assertThat(other.port()).isEqualTo(before.port());
    assertThat(other.startedHere()).isFalse();
    assertThat(other.password()).isEqualTo(before.password());
  }

  @Test
  void stopThenEnsureRunningKeepsDataAndPort() throws SQLException {
    LocalPostgres.Connection before = postgres.ensureRunning();
    execute(before, "CREATE TABLE IF NOT EXISTS survivors (name text)");
    execute(before, "INSERT INTO survivors VALUES ('kept across restart')");

    assertThat(postgres.stop()).isTrue();
    assertThat(postgres.isRunning()).isFalse();
    assertThat(postgres.stop()).isFalse();
    assertThat(progress).last().isEqualTo("stopped PostgreSQL");

    LocalPostgres.Connection after = postgres.ensureRunning();
    assertThat(after.startedHere()).isTrue();
    assertThat(after.port()).isEqualTo(before.port());
    assertThat(query(after, "SELECT max(name) FROM survivors")).isEqualTo("kept across restart");
    assertThat(progress).filteredOn(line -> line.startsWith("initialising")).hasSize(1);
  }

  @Test
  void postmasterPidOfDeadProcessDoesNotBlockStart() throws Exception {
    Process finished = new ProcessBuilder("true").start();
    finished.waitFor();
    assertStartsDespitePidFileNaming(finished.pid());
  }

  @Test
  void postmasterPidOfUnrelatedLiveProcessDoesNotBlockStart() throws Exception {
    // After a container restart the old pid often belongs to some other process.
    assertStartsDespitePidFileNaming(ProcessHandle.current().pid());
  }

  @Test
  void passwordFileIsOwnerOnlyAndToStringMasksPassword() throws IOException {
    Path passwordFile = dataRoot.resolve("password");

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile)))
        .isEqualTo("rw-------");
    assertThat(Files.readString(passwordFile).strip()).isEqualTo(first.password());
    assertThat(first.password()).hasSize(32).matches("[A-Za-z0-9]+");
    assertThat(first.toString())
        .isEqualTo(
            "Connection[jdbcUrl=jdbc:postgresql://127.0.0.1:"
                + first.port()
                + "/jodo_kernel, user=jodo, password=****, port="
                + first.port()
                + ", startedHere=true]")
        .doesNotContain(first.password());
    assertThat(dataRoot.resolve(".initdb-password")).doesNotExist();
  }

  @Test
  void asRootServerRunsAsUnprivilegedUserAndPasswordStaysRoots() throws IOException {
    assumeTrue(ServerAccount.isRoot(), "only meaningful when the tests run as root");
    postgres.ensureRunning();
    long pid = PostmasterPid.live(dataRoot.resolve("data")).orElseThrow().pid();

    assertThat(ProcessHandle.of(pid).orElseThrow().info().user()).contains("jodo-postgres");
    assertThat(Files.getOwner(dataRoot.resolve("data")).getName()).isEqualTo("jodo-postgres");
    assertThat(Files.getOwner(dataRoot.resolve("password")).getName()).isEqualTo("root");
  }

  @Test
  void asRootUnreachableDataRootNamesTheDirectoryAndTheFix() throws IOException {
    assumeTrue(ServerAccount.isRoot(), "only root runs the server as another user");
    Path locked = Files.createDirectory(sandbox.resolve("locked"));
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
    LocalPostgres unreachable = newLocalPostgres(locked.resolve("home/postgres"));

    assertThatThrownBy(unreachable::ensureRunning)
        .isInstanceOf(LocalPostgresException.class)
        .hasMessage(
            "PostgreSQL runs as the unprivileged user jodo-postgres, which cannot reach "
                + locked
                + " (no search permission); set JODO_HOME to a directory that other users can"
                + " reach, e.g. /var/lib/jodo");
  }

  @Test
  void missingBinariesWithoutInstallFailsWithTheInstallCommand() throws IOException {
    assumeTrue(Subprocess.which("apt-get").isPresent(), "the hint names apt-get where it exists");
    Path empty = Files.createDirectories(sandbox.resolve("no-binaries"));
    List<String> messages = new ArrayList<>();
    LocalPostgres withoutBinaries =
        new LocalPostgres(sandbox.resolve("elsewhere"), messages::add, List.of(empty), false);

    assertThatThrownBy(withoutBinaries::ensureRunning)
        .isInstanceOf(LocalPostgresException.class)
        .hasMessage(
            "PostgreSQL server binaries not found (searched "
                + empty
                + "); install them with: sudo apt-get install -y postgresql");
    assertThat(messages).isEmpty();
  }

  private void assertStartsDespitePidFileNaming(long pid) throws IOException, SQLException {
    postgres.ensureRunning();
    Path pidFile = dataRoot.resolve("data/postmaster.pid");
    List<String> lines = new ArrayList<>(Files.readAllLines(pidFile));
    assertThat(postgres.stop()).isTrue();
    lines.set(0, Long.toString(pid));
    Files.write(pidFile, lines);

    assertThat(postgres.isRunning()).isFalse();
    LocalPostgres.Connection restarted = postgres.ensureRunning();
    assertThat(restarted.startedHere()).isTrue();
    assertThat(query(restarted, "SELECT 'up'")).isEqualTo("up");
  }

  private LocalPostgres newLocalPostgres(Path root) {
    return new LocalPostgres(root, progress::add, PostgresBinaries.defaultSearchPath(), false);
  }

  private static String query(LocalPostgres.Connection connection, String sql) throws SQLException {
    try (java.sql.Connection jdbc =
            DriverManager.getConnection(
                connection.jdbcUrl(), connection.user(), connection.password());
        Statement statement = jdbc.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      assertThat(result.next()).isTrue();
      return result.getString(1);
    }
  }

  private static void execute(LocalPostgres.Connection connection, String sql) throws SQLException {
    try (java.sql.Connection jdbc =
            DriverManager.getConnection(
                connection.jdbcUrl(), connection.user(), connection.password());
        Statement statement = jdbc.createStatement()) {
      statement.execute(sql);
    }
  }
}
