package dev.jodo.kernel.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;

/**
 * A real SSH server (Apache MINA SSHD) on loopback for tests: public-key login with a key the test
 * gets as an OpenSSH private key file, and every exec request run as a real {@code /bin/sh -c}
 * process on this machine, with its stdin, stdout, stderr and exit code carried over the channel.
 * {@link #execs()} counts the commands run.
 *
 * <p>Each command's environment is this JVM's plus {@link #SECRET}, the way a real sshd hands the
 * login's variables to a command, so a test can see that an agent gets none of them.
 */
public final class TestSshServer implements AutoCloseable {
  /** A variable every command on this server starts with, and no agent may inherit. */
  public static final String SECRET = "SECRET";

  private final SshServer server;
  private final KeyPair hostKey;
  private final Path clientKey;
  private final List<PublicKey> authorized = new CopyOnWriteArrayList<>();
  private final AtomicInteger execs = new AtomicInteger();

  /** Starts on a free port with a fresh host key and a fresh client key in {@code dir}. */
  public static TestSshServer start(Path dir) {
    return start(dir, 0, hostKey());
  }

  /**
   * Starts on {@code port} (0: any) showing {@code hostKey}. The client key in {@code dir} is made
   * on the first start and kept for later ones, so a restarted server accepts the same client.
   */
  public static TestSshServer start(Path dir, int port, KeyPair hostKey) {
    try {
      return new TestSshServer(dir, port, hostKey);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair hostKey() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private TestSshServer(Path dir, int port, KeyPair hostKey)
      throws IOException, GeneralSecurityException {
    Files.createDirectories(dir);
    this.hostKey = hostKey;
    clientKey = dir.resolve("id_ecdsa");
    KeyPair client;
    if (Files.exists(clientKey)) {
      client = new FileKeyPairProvider(clientKey).loadKeys(null).iterator().next();
    } else {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      client = generator.generateKeyPair();
      writePrivateKey(client, clientKey);
    }
    authorized.add(client.getPublic());
    server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(port);
    server.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
    server.setPublickeyAuthenticator(
        (user, key, session) -> authorized.stream().anyMatch(k -> KeyUtils.compareKeys(key, k)));
    CoreModuleProperties.TCP_NODELAY.set(server, true); // as the kernel's client: no 40 ms stalls
    server.setCommandFactory((channel, command) -> new ShellCommand(command, execs));
    server.start();
  }

  /** Writes {@code key} to {@code file} as an unencrypted OpenSSH private key, mode 600. */
  public static void writePrivateKey(KeyPair key, Path file) throws IOException {
    try {
      Files.deleteIfExists(file);
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try (OutputStream out = Files.newOutputStream(file)) {
        OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(key, "jodo-test", null, out);
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Accepts logins with {@code key} too. */
  public void authorize(PublicKey key) {
    authorized.add(key);
  }

  /** The key this server shows, to start another one that looks the same. */
  public KeyPair serverKey() {
    return hostKey;
  }

  public int port() {
    return server.getPort();
  }

  /** The client's private key, an OpenSSH key file with mode 600. */
  public Path clientKey() {
    return clientKey;
  }

  public int execs() {
    return execs.get();
  }

  @Override
  public void close() {
    try {
      server.stop(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One exec request: {@code /bin/sh -c command} as a real process. */
  private static final class ShellCommand implements Command {
    private final String command;
    private final AtomicInteger execs;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;
    private Process process;

    ShellCommand(String command, AtomicInteger execs) {
      this.command = command;
      this.execs = execs;
    }

    @Override
    public void setInputStream(InputStream in) {
      this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
      this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
      this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) throws IOException {
      execs.incrementAndGet();
      ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", command);
      builder.environment().put(SECRET, "the server's own secret");
      process = builder.start();
      Thread.ofVirtual()
          .start(
              () -> {
                try (OutputStream stdin = process.getOutputStream()) {
                  in.transferTo(stdin);
                } catch (IOException e) {
                  // the command stopped reading
                }
              });
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  Thread errors =
                      Thread.ofVirtual().start(() -> copy(process.getErrorStream(), err));
                  copy(process.getInputStream(), out);
                  errors.join();
                  exit.onExit(process.waitFor());
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
    }

    private static void copy(InputStream from, OutputStream to) {
      try {
        from.transferTo(to);
        to.flush();
      } catch (IOException e) {
        // the channel closed
      }
    }

    @Override
    public void destroy(ChannelSession channel) {
      if (process != null) {
        process.destroy();
      }
    }
  }
}
