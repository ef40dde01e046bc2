package dev.jodo.kernel.platform.db;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A private PostgreSQL cluster under the kernel's home, for when no database server is configured.
 *
 * <pre>{@code
 * LocalPostgres postgres = new LocalPostgres(home.resolve("postgres"), System.out::println);
 * LocalPostgres.Connection db = postgres.ensureRunning();
 * // db.jdbcUrl() is jdbc:postgresql://127.0.0.1:PORT/jodo_kernel, db.user() is jodo
 * }</pre>
 *
 * <p>The server outlives the JVM that started it: a later kernel finds it running and reuses it,
 * and {@link #stop()} shuts it down. Run as root, the server runs as the system user {@code
 * jodo-postgres}, because PostgreSQL refuses to run as root.
 */
public final class LocalPostgres {
  static final String USER = "jodo";
  static final String DATABASE = "jodo_kernel";

  private static final Duration INITDB_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
  // pg_ctl's own waits stay inside the process timeouts, so pg_ctl reports rather than is killed.
  private static final String PG_CTL_START_WAIT = "60";
  private static final String PG_CTL_STOP_WAIT = "50";
  private static final Duration READY_WAIT = Duration.ofSeconds(60);

  private final ClusterLayout layout;
  private final Consumer<String> progress;
  private final Supplier<List<Path>> binarySearchPath;
  private final String searchDescription;
  private final boolean allowInstall;
  private PostgresBinaries binaries;

  /** dataRoot is e.g. JODO_HOME/postgres; progress receives one-line human progress messages. */
  public LocalPostgres(Path dataRoot, Consumer<String> progress) {
    this(
        new ClusterLayout(dataRoot),
        progress,
        PostgresBinaries::defaultSearchPath,
        PostgresBinaries.DEFAULT_SEARCH,
        true);
  }

  /** For tests: binarySearchPath replaces the default directories searched for binaries. */
  LocalPostgres(
      Path dataRoot, Consumer<String> progress, List<Path> binarySearchPath, boolean allowInstall) {
    this(
        new ClusterLayout(dataRoot),
        progress,
        () -> List.copyOf(binarySearchPath),
        binarySearchPath.stream().map(Path::toString).collect(Collectors.joining(", ")),
        allowInstall);
  }

  private LocalPostgres(
      ClusterLayout layout,
      Consumer<String> progress,
      Supplier<List<Path>> binarySearchPath,
      String searchDescription,
      boolean allowInstall) {
    this.layout = layout;
    this.progress = Objects.requireNonNull(progress, "progress");
    this.binarySearchPath = binarySearchPath;
    this.searchDescription = searchDescription;
    this.allowInstall = allowInstall;
  }

  /**
   * Finds the binaries, creates the cluster on first use, starts it unless it is already running
   * (perhaps started by another process) and makes sure database {@code jodo_kernel} exists.
   *
   * @throws LocalPostgresException with what failed and how to fix it
   */
  public synchronized Connection ensureRunning() {
    Optional<PostmasterPid> running = awaitReady();
    if (running.isPresent()) {
      return connect(running.get().port(), false);
    }
    PostgresBinaries binaries = binaries(true);
    ServerAccount account = ServerAccount.forThisProcess();
    prepareDirectories(account);
    if (!layout.isInitialised()) {
      initialise(binaries, account);
    }
    writeSettings(account);
    int port = layout.choosePort();
    progress.accept("starting PostgreSQL " + binaries.version() + " on 127.0.0.1:" + port);
    Subprocess.Result result =
        Subprocess.run(
            "pg_ctl start",
            account.command(
                List.of(
                    binaries.pgCtl().toString(),
                    "-D",
                    layout.data().toString(),
                    "-l",
                    layout.log().toString(),
                    "-o",
                    "-p " + port,
                    "-w",
                    "-t",
                    PG_CTL_START_WAIT,
                    "start")),
            START_TIMEOUT);
    if (!result.succeeded()) {
      // Another process may have won a race to start the same cluster.
      Optional<PostmasterPid> other = awaitReady();
      if (other.isPresent()) {
        return connect(other.get().port(), false);
      }
      throw new LocalPostgresException(
          "PostgreSQL did not start on 127.0.0.1:"
              + port
              + " (pg_ctl exit "
              + result.exitCode()
              + "): "
              + result.tail()
              + "; postgres.log: "
              + layout.logTail());
    }
    layout.rememberPort(port);
    return connect(port, true);
  }

  public boolean isRunning() {
    return PostmasterPid.live(layout.data()).isPresent();
  }

  /** Stops the cluster if it is running (fast shutdown); returns whether it was running. */
  public synchronized boolean stop() {
    if (!isRunning()) {
      return false;
    }
    PostgresBinaries binaries = binaries(false);
    ServerAccount account = ServerAccount.forThisProcess();
    Subprocess.Result result =
        Subprocess.run(
            "pg_ctl stop",
            account.command(
                List.of(
                    binaries.pgCtl().toString(),
                    "-D",
                    layout.data().toString(),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    PG_CTL_STOP_WAIT,
                    "stop")),
            STOP_TIMEOUT);
    if (!result.succeeded() && isRunning()) {
      throw new LocalPostgresException(
          "PostgreSQL in "
              + layout.data()
              + " did not stop (pg_ctl exit "
              + result.exitCode()
              + "): "
              + result.tail());
    }
    progress.accept("stopped PostgreSQL");
    return true;
  }

  /** Where the kernel's database is; {@link #toString()} masks the password. */
  public record Connection(
      String jdbcUrl, String user, String password, int port, boolean startedHere) {
    public Connection {
      Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(password, "password");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("not a TCP port: " + port);
      }
    }

    @Override
    public String toString() {
      return "Connection[jdbcUrl="
          + jdbcUrl
          + ", user="
          + user
          + ", password=****, port="
          + port
          + ", startedHere="
          + startedHere
          + "]";
    }
  }

  /** The ready server's lock file, waiting while a server (maybe another process's) starts. */
  private Optional<PostmasterPid> awaitReady() {
    long deadline = System.nanoTime() + READY_WAIT.toNanos();
    while (true) {
      Optional<PostmasterPid> pidFile = PostmasterPid.live(layout.data());
      if (pidFile.isEmpty() || pidFile.get().isReady()) {
        return pidFile;
      }
      if (System.nanoTime() > deadline) {
        throw new LocalPostgresException(
            "PostgreSQL in "
                + layout.data()
                + " (pid "
                + pidFile.get().pid()
                + ") is still '"
                + pidFile.get().status()
                + "' after "
                + READY_WAIT.toSeconds()
                + " s; see "
                + layout.log());
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LocalPostgresException("interrupted waiting for PostgreSQL to start", e);
      }
    }
  }

  private PostgresBinaries binaries(boolean mayInstall) {
    if (binaries != null) {
      return binaries;
    }
    binaries = PostgresBinaries.forCluster(findOrInstall(mayInstall), layout);
    return binaries;
  }

  private List<PostgresBinaries> findOrInstall(boolean mayInstall) {
    List<PostgresBinaries> found = PostgresBinaries.installed(binarySearchPath.get());
    if (found.isEmpty() && mayInstall && allowInstall && PostgresBinaries.canInstall()) {
      PostgresBinaries.installWithAptGet(progress);
      found = PostgresBinaries.installed(binarySearchPath.get());
    }
    if (found.isEmpty()) {
      throw new LocalPostgresException(
          "PostgreSQL server binaries not found (searched "
              + searchDescription
              + "); install them with: "
              + PostgresBinaries.installHint(Optional.empty()));
    }
    return found;
  }

  private void prepareDirectories(ServerAccount account) {
    try {
      Files.createDirectories(layout.root());
    } catch (IOException e) {
      throw new LocalPostgresException("cannot create " + layout.root() + ": " + e.getMessage(), e);
    }
    account.checkCanReach(layout.root());
    ClusterLayout.createPrivateDirectory(layout.socketDir());
    account.own(layout.socketDir());
    ClusterLayout.createPrivateFile(layout.log());
    account.own(layout.log());
    if (Files.exists(layout.data())) {
      account.own(layout.data());
    }
  }

  /**
   * Runs initdb in data.partial and renames it to data, so an interrupted initdb never leaves a
   * data directory that looks usable.
   */
  private void initialise(PostgresBinaries binaries, ServerAccount account) {
    removeEmptyDataDirectory();
    progress.accept("initialising a private PostgreSQL cluster in " + layout.data());
    Path partial = layout.partialData();
    ClusterLayout.deleteTree(partial);
    ClusterLayout.createPrivateDirectory(partial);
    account.own(partial);
    String password = ClusterLayout.newPassword();
    // Written before initdb so a crash afterwards can never leave a cluster with no password.
    ClusterLayout.writePrivate(layout.passwordFile(), password + "\n");
    Path pwfile = layout.initdbPasswordFile();
    try {
      ClusterLayout.writePrivate(pwfile, password + "\n");
      account.own(pwfile);
      Subprocess.Result result =
          Subprocess.run(
              "initdb",
              account.command(
                  List.of(
                      binaries.initdb().toString(),
                      "-D",
                      partial.toString(),
                      "-U",
                      USER,
                      "--auth=scram-sha-256",
                      "--pwfile=" + pwfile,
                      "-E",
                      "UTF8",
                      "--locale=C")),
              INITDB_TIMEOUT);
      if (!result.succeeded()) {
        throw new LocalPostgresException(
            "initdb failed in " + partial + " (exit " + result.exitCode() + "): " + result.tail());
      }
    } finally {
      deleteQuietly(pwfile);
    }
    try {
      Files.writeString(
          partial.resolve("postgresql.conf"),
          "\ninclude_if_exists = 'jodo.conf'\n",
          StandardOpenOption.APPEND);
      Files.move(partial, layout.data(), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new LocalPostgresException(
          "cannot move the new cluster to " + layout.data() + ": " + e.getMessage(), e);
    }
  }

  private void removeEmptyDataDirectory() {
    Path data = layout.data();
    if (!Files.exists(data)) {
      return;
    }
    try {
      Files.delete(data);
    } catch (DirectoryNotEmptyException e) {
      throw new LocalPostgresException(
          data + " exists but holds no PostgreSQL cluster (no PG_VERSION); move it away", e);
    } catch (IOException e) {
      throw new LocalPostgresException("cannot remove " + data + ": " + e.getMessage(), e);
    }
  }

  private void writeSettings(ServerAccount account) {
    Path file = layout.data().resolve("jodo.conf");
    try {
      String settings = layout.settings();
      if (!Files.exists(file) || !Files.readString(file).equals(settings)) {
        Files.writeString(file, settings);
        account.own(file);
      }
    } catch (IOException e) {
      throw new LocalPostgresException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private Connection connect(int port, boolean startedHere) {
    String password = layout.readPassword();
    createDatabaseIfMissing(port, password);
    return new Connection(
        "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE, USER, password, port, startedHere);
  }

  private void createDatabaseIfMissing(int port, String password) {
    try (java.sql.Connection connection = open(port, password);
        Statement statement = connection.createStatement()) {
      try (ResultSet exists =
          statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
        if (exists.next()) {
          return;
        }
      }
      statement.execute("CREATE DATABASE " + DATABASE);
    } catch (SQLException e) {
      if ("42P04".equals(e.getSQLState())) {
        return; // duplicate_database: another kernel created it at the same moment
      }
      throw new LocalPostgresException(
          "cannot create database " + DATABASE + " on 127.0.0.1:" + port + ": " + e.getMessage(),
          e);
    }
  }

  private java.sql.Connection open(int port, String password) {
    Properties properties = new Properties();
    properties.setProperty("user", USER);
    properties.setProperty("password", password);
    properties.setProperty("connectTimeout", "10");
    properties.setProperty("socketTimeout", "60");
    properties.setProperty("ApplicationName", "jodo-kernel local-postgres");
    try {
      return DriverManager.getConnection(
          "jdbc:postgresql://127.0.0.1:" + port + "/postgres", properties);
    } catch (SQLException e) {
      String hint =
          "28P01".equals(e.getSQLState())
              ? "; the password in " + layout.passwordFile() + " does not match the cluster"
              : "";
      throw new LocalPostgresException(
          "cannot connect to PostgreSQL on 127.0.0.1:"
              + port
              + " as "
              + USER
              + ": "
              + e.getMessage()
              + hint,
          e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // Mode 600 in a directory the kernel owns; harmless if it lingers.
    }
  }
}
