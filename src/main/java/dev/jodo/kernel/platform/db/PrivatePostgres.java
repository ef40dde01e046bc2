package dev.jodo.kernel.platform.db;

import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * The kernel's own Postgres under {@code JODO_HOME/postgres}, used when no server is configured.
 * Closing it stops the server only if this kernel started it; {@link #stopIfRunning} is for {@code
 * jodo down}, which stops it whoever started it.
 */
public final class PrivatePostgres implements AutoCloseable {
  static final String POINTER_FILE = "postgres.location";
  static final String RELOCATED_ROOT = "/var/lib/jodo-kernel/clusters";

  private final LocalPostgres postgres;
  private final LocalPostgres.Connection connection;
  private final int maxPoolSize;

  private PrivatePostgres(LocalPostgres postgres, LocalPostgres.Connection connection, int pool) {
    this.postgres = postgres;
    this.connection = connection;
    this.maxPoolSize = pool;
  }

  /** Where the cluster of {@code home} lives, without deciding anything new. */
  public static Path dataRoot(Path home) {
    Path pointer = home.resolve(POINTER_FILE);
    if (Files.isRegularFile(pointer)) {
      try {
        return Path.of(Files.readString(pointer).strip());
      } catch (IOException e) {
        throw new LocalPostgresException("cannot read " + pointer + ": " + e.getMessage(), e);
      }
    }
    return home.resolve("postgres");
  }

  /**
   * Like {@link #dataRoot}, but on first use as root decides where a new cluster goes: under {@code
   * home} when the unprivileged server user can reach it, otherwise (e.g. a checkout in {@code
   * /root}) under {@value #RELOCATED_ROOT}, remembered in {@code home/postgres.location} so the
   * choice never changes once a cluster exists.
   */
  static Path chooseDataRoot(Path home, Consumer<String> progress) {
    Path current = dataRoot(home);
    if (Files.isDirectory(current.resolve("data")) || !ServerAccount.isRoot()) {
      return current;
    }
    try {
      Files.createDirectories(home);
      ServerAccount.forThisProcess().checkCanReach(home);
      return current;
    } catch (IOException e) {
      throw new LocalPostgresException("cannot create " + home + ": " + e.getMessage(), e);
    } catch (LocalPostgresException unreachable) {
      Path relocated = Path.of(RELOCATED_ROOT, digest(home.toAbsolutePath().toString()));
      try {
        Files.createDirectories(relocated);
        Files.writeString(home.resolve(POINTER_FILE), relocated + "\n");
      } catch (IOException e) {
        throw new LocalPostgresException("cannot prepare " + relocated + ": " + e.getMessage(), e);
      }
      progress.accept(
          "PostgreSQL's user cannot reach "
              + home
              + "; keeping this kernel's cluster in "
              + relocated
              + " (recorded in "
              + home.resolve(POINTER_FILE)
              + ")");
      return relocated;
    }
  }

  private static String digest(String text) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  public static PrivatePostgres start(
      Path home, DatabaseTarget.Private settings, Consumer<String> progress) {
    LocalPostgres postgres = new LocalPostgres(chooseDataRoot(home, progress), progress);
    return new PrivatePostgres(postgres, postgres.ensureRunning(), settings.maxPoolSize());
  }

  public DatabaseTarget.External target() {
    return new DatabaseTarget.External(
        connection.jdbcUrl(), connection.user(), new Secret(connection.password()), maxPoolSize);
  }

  public boolean startedHere() {
    return connection.startedHere();
  }

  @Override
  public void close() {
    if (connection.startedHere()) {
      postgres.stop();
    }
  }

  /** Stops the private cluster of {@code home} if one is running; true if it was. */
  public static boolean stopIfRunning(Path home, Consumer<String> progress) {
    Path root = dataRoot(home);
    if (!Files.isDirectory(root)) {
      return false;
    }
    return new LocalPostgres(root, progress).stop();
  }
}
