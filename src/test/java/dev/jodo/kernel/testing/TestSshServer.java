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
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
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
 */
public final class TestSshServer implements AutoCloseable {
  private final SshServer server;
  private final Path clientKey;
  private final AtomicInteger execs = new AtomicInteger();

  /** Starts on a free port with a fresh host key and a fresh client key in {@code dir}. */
  public static TestSshServer start(Path dir) {
    return start(dir, 0, hostKey());
  }

  /** Starts on {@code port} (0: any) showing {@code hostKey}. */
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
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(256);
    KeyPair client = generator.generateKeyPair();
    clientKey = dir.resolve("id_ecdsa");
    Files.deleteIfExists(clientKey);
    Files.createFile(
        clientKey,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (OutputStream out = Files.newOutputStream(clientKey)) {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(client, "jodo-test", null, out);
    }
    server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(port);
    server.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
    server.setPublickeyAuthenticator(
        (user, key, session) -> KeyUtils.compareKeys(key, client.getPublic()));
    server.setCommandFactory((channel, command) -> new ShellCommand(command, execs));
    server.start();
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
      process = new ProcessBuilder("/bin/sh", "-c", command).start();
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
