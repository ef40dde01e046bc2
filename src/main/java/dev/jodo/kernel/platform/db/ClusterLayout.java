package dev.jodo.kernel.platform.db;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The files of a private cluster under one root: {@code data/} (the cluster, owned by the server
 * account), {@code run/} (its Unix socket), {@code postgres.log}, {@code password} (mode 600, owned
 * by the kernel's user) and {@code port} (the port last used).
 */
record ClusterLayout(Path root) {
  static final String LOOPBACK = "127.0.0.1";

  // sun_path holds 107 bytes; stay clear of it and fall back to TCP only.
  private static final int MAX_SOCKET_PATH = 100;
  private static final String SOCKET_FILE = "/.s.PGSQL.65535";
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_DIR =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  ClusterLayout {
    root = root.toAbsolutePath().normalize();
  }

  Path data() {
    return root.resolve("data");
  }

  /** Where initdb builds a cluster before it is renamed to data/, so data/ is never half made. */
  Path partialData() {
    return root.resolve("data.partial");
  }

  Path socketDir() {
    return root.resolve("run");
  }

  Path log() {
    return root.resolve("postgres.log");
  }

  Path passwordFile() {
    return root.resolve("password");
  }

  Path initdbPasswordFile() {
    return root.resolve(".initdb-password");
  }

  Path portFile() {
    return root.resolve("port");
  }

  boolean isInitialised() {
    return Files.exists(data().resolve("PG_VERSION"));
  }

  /** The major version that created the cluster, e.g. "15". */
  Optional<String> clusterVersion() {
    Path file = data().resolve("PG_VERSION");
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Files.readString(file).strip());
    } catch (IOException e) {
      throw new LocalPostgresException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Settings rewritten on every start, so a moved root still gets a valid socket directory. */
  String settings() {
    String sockets = socketDir().toString();
    if (sockets.length() + SOCKET_FILE.length() > MAX_SOCKET_PATH) {
      sockets = "";
    }
    return """
        # Rewritten by Jodo Kernel on every start; override a setting with ALTER SYSTEM.
        listen_addresses = '%s'
        unix_socket_directories = '%s'
        shared_buffers = 128MB
        max_connections = 200
        fsync = on
        """
        .formatted(LOOPBACK, sockets.replace("'", "''"));
  }

  static String newPassword() {
    SecureRandom random = new SecureRandom();
    StringBuilder password = new StringBuilder(32);
    for (int i = 0; i < 32; i++) {
      password.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return password.toString();
  }

  String readPassword() {
    Path file = passwordFile();
    try {
      String password = Files.exists(file) ? Files.readString(file).strip() : "";
      if (password.isEmpty()) {
        throw new LocalPostgresException(
            "the password file "
                + file
                + " is missing or empty, so the cluster in "
                + data()
                + " cannot be reached; restore the file, or delete "
                + root
                + " to start over (this deletes the kernel's data)");
      }
      return password;
    } catch (IOException e) {
      throw new LocalPostgresException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Creates or replaces file with text, readable by its owner only from the first byte. */
  static void writePrivate(Path file, String text) {
    Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(temporary);
      Files.createFile(temporary, OWNER_ONLY_FILE);
      Files.writeString(temporary, text);
      Files.move(
          temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new LocalPostgresException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  static void createPrivateDirectory(Path dir) {
    try {
      Files.createDirectory(dir, OWNER_ONLY_DIR);
    } catch (FileAlreadyExistsException e) {
      // Made by an earlier start.
    } catch (IOException e) {
      throw new LocalPostgresException("cannot create " + dir + ": " + e.getMessage(), e);
    }
  }

  static void createPrivateFile(Path file) {
    try {
      Files.createFile(file, OWNER_ONLY_FILE);
    } catch (FileAlreadyExistsException e) {
      // Made by an earlier start.
    } catch (IOException e) {
      throw new LocalPostgresException("cannot create " + file + ": " + e.getMessage(), e);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> tree = Files.walk(dir)) {
      for (Path file : (Iterable<Path>) tree.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(file);
      }
    } catch (IOException e) {
      throw new LocalPostgresException("cannot delete " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The port used last time if it is still free, else one the kernel picks now. */
  int choosePort() {
    OptionalInt last = lastPort();
    if (last.isPresent() && isFree(last.getAsInt())) {
      return last.getAsInt();
    }
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new LocalPostgresException(
          "cannot find a free port on " + LOOPBACK + ": " + e.getMessage(), e);
    }
  }

  void rememberPort(int port) {
    try {
      Files.writeString(portFile(), port + "\n");
    } catch (IOException e) {
      throw new LocalPostgresException("cannot write " + portFile() + ": " + e.getMessage(), e);
    }
  }

  /** The last lines of postgres.log, on one line; reads only its end, as the log only grows. */
  String logTail() {
    try (SeekableByteChannel channel = Files.newByteChannel(log())) {
      long size = channel.size();
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size, 8192));
      channel.position(size - buffer.capacity());
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // keep reading
      }
      return Subprocess.lastLines(
          new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8),
          Subprocess.TAIL_LINES);
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  private OptionalInt lastPort() {
    try {
      String text = Files.exists(portFile()) ? Files.readString(portFile()).strip() : "";
      int port = text.matches("\\d{1,5}") ? Integer.parseInt(text) : 0;
      return port > 0 && port < 65536 ? OptionalInt.of(port) : OptionalInt.empty();
    } catch (IOException e) {
      return OptionalInt.empty(); // a damaged port file only costs the old port
    }
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      // Like the server, which sets SO_REUSEADDR, ignore connections lingering in TIME_WAIT.
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(LOOPBACK, port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
