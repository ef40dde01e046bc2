package dev.jodo.kernel.agents.ssh;

import dev.jodo.kernel.agents.AgentHostException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.core.CoreModuleProperties;

/**
 * One SSH login to an agent's machine with Apache MINA SSHD: key authentication, host keys pinned
 * on first use ({@link KnownHosts}), one session reused for every command and opened again when it
 * drops, and a time limit on every step (connect, authenticate, run). Commands run through the
 * remote user's shell; {@link #quote} makes any string one shell word.
 *
 * <pre>{@code
 * SshConnection ssh = new SshConnection("10.0.0.2", 22, "jodo", keyFile, knownHosts, Duration.ofSeconds(10));
 * SshConnection.Result r = ssh.exec("test -e " + SshConnection.quote(path), null);
 * }</pre>
 */
public final class SshConnection implements AutoCloseable {

  /** What a command did: its exit code and output. */
  public record Result(int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }
  }

  private final String host;
  private final int port;
  private final String user;
  private final Path keyFile;
  private final KnownHosts knownHosts;
  private final Duration timeout;
  private final SshClient client;
  private ClientSession session;

  public SshConnection(
      String host, int port, String user, Path keyFile, Path knownHostsFile, Duration timeout) {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("ssh host must not be blank");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("not a valid ssh port: " + port);
    }
    if (user == null || user.isBlank()) {
      throw new IllegalArgumentException("ssh user must not be blank");
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("ssh timeout must be positive: " + timeout);
    }
    this.host = host;
    this.port = port;
    this.user = user;
    this.keyFile = Objects.requireNonNull(keyFile, "keyFile");
    this.knownHosts = new KnownHosts(Objects.requireNonNull(knownHostsFile, "knownHostsFile"));
    this.timeout = timeout;
    this.client = SshClient.setUpDefaultClient();
    client.setServerKeyVerifier(knownHosts);
    // Only what the kernel was configured with: never the kernel user's ~/.ssh/config (which could
    // send the host elsewhere or offer other keys), and no password prompts.
    client.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
    client.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
    // Every command is a few small packets each way; Nagle's algorithm against delayed ACKs would
    // add some 40 ms to each of them.
    CoreModuleProperties.TCP_NODELAY.set(client, true);
    client.start();
  }

  public String host() {
    return host;
  }

  public Duration timeout() {
    return timeout;
  }

  /** Runs {@code command} with {@code stdin} (may be null), waiting up to the timeout. */
  public Result exec(String command, byte[] stdin) {
    return exec(command, stdin, timeout);
  }

  /**
   * Runs {@code command}, waiting up to {@code limit} for it to finish. A session the host closed
   * (sshd restarted, an idle timeout) is noticed and opened again before the command is sent; one
   * that breaks or hangs during a command is dropped, so the next command opens a new one.
   */
  public Result exec(String command, byte[] stdin, Duration limit) {
    ClientSession current = session();
    try {
      return exec(current, command, stdin, limit);
    } catch (StaleSession stale) {
      // The host had closed the session before this side noticed (the close is asynchronous):
      // the channel never opened, so the command was not sent. Once more, on a new session.
      drop(current);
      ClientSession fresh = session();
      try {
        return exec(fresh, command, stdin, limit);
      } catch (StaleSession again) {
        drop(fresh);
        throw new AgentHostException(where() + ": " + describe(again.getCause()), again.getCause());
      }
    }
  }

  /** The channel could not open because the host had closed the session: nothing was sent. */
  private static final class StaleSession extends Exception {
    private static final long serialVersionUID = 1L;

    StaleSession(Exception cause) {
      super(cause);
    }
  }

  private Result exec(ClientSession current, String command, byte[] stdin, Duration limit)
      throws StaleSession {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (ChannelExec channel = current.createExecChannel(command)) {
      channel.setIn(new ByteArrayInputStream(stdin == null ? new byte[0] : stdin));
      channel.setOut(out);
      channel.setErr(err);
      try {
        channel.open().verify(timeout);
      } catch (IOException | RuntimeException e) {
        if (!current.isOpen() || current.isClosing()) {
          throw new StaleSession(e);
        }
        throw e;
      }
      Set<ClientChannelEvent> events =
          channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), limit.toMillis());
      if (events.contains(ClientChannelEvent.TIMEOUT)) {
        // A host that stopped answering looks the same as a slow command: start afresh.
        drop(current);
        throw new AgentHostException(
            where() + ": a command did not finish within " + limit.toMillis() + " ms");
      }
      Integer status = channel.getExitStatus();
      return new Result(
          status == null ? -1 : status,
          out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      if (e instanceof AgentHostException failure) {
        throw failure;
      }
      drop(current);
      throw new AgentHostException(where() + ": " + describe(e), e);
    }
  }

  /** Runs {@code command} and fails with its stderr unless it exits 0. */
  public String check(String what, String command, byte[] stdin) {
    Result result = exec(command, stdin);
    if (!result.ok()) {
      throw new AgentHostException(
          where()
              + ": "
              + what
              + " failed (exit "
              + result.exitCode()
              + "): "
              + result.stderr().strip());
    }
    return result.stdout();
  }

  private synchronized ClientSession session() {
    if (session != null && session.isOpen() && session.isAuthenticated()) {
      return session;
    }
    drop(session);
    KeyIdentityProvider identity = identity();
    ClientSession opened = null;
    try {
      opened = client.connect(user, host, port).verify(timeout).getSession();
      opened.setKeyIdentityProvider(identity);
      opened.auth().verify(timeout);
      session = opened;
      return opened;
    } catch (IOException | RuntimeException e) {
      if (opened != null) {
        opened.close(true);
      }
      String why = knownHosts.mismatch().orElseGet(() -> describe(e));
      throw new AgentHostException(where() + ": " + why, e);
    }
  }

  /**
   * The private key, read at every login (it may have been replaced). Only this key is offered:
   * nothing from the kernel user's {@code ~/.ssh}.
   */
  private KeyIdentityProvider identity() {
    List<KeyPair> keys = new ArrayList<>();
    try (InputStream in = Files.newInputStream(keyFile)) {
      Iterable<KeyPair> loaded =
          SecurityUtils.loadKeyPairIdentities(
              null, NamedResource.ofName(keyFile.toString()), in, FilePasswordProvider.EMPTY);
      if (loaded != null) {
        loaded.forEach(keys::add);
      }
    } catch (NoSuchFileException | AccessDeniedException e) {
      throw new AgentHostException(
          where() + ": cannot read the private key " + keyFile + "; check ssh_key_path", e);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new AgentHostException(where() + ": " + unusableKey() + " (" + describe(e) + ")", e);
    }
    if (keys.isEmpty()) {
      throw new AgentHostException(where() + ": " + unusableKey());
    }
    return KeyIdentityProvider.wrapKeyPairs(keys);
  }

  private String unusableKey() {
    return "cannot use the private key "
        + keyFile
        + ": it must be an unencrypted OpenSSH private key (ed25519, ECDSA or RSA)";
  }

  private static String describe(Throwable e) {
    return e.getMessage() == null || e.getMessage().isBlank() ? e.toString() : e.getMessage();
  }

  private synchronized void drop(ClientSession which) {
    if (which != null) {
      which.close(true);
    }
    if (session == which) {
      session = null;
    }
  }

  private String where() {
    return "ssh " + user + "@" + host + ":" + port;
  }

  /** {@code text} as one word for a POSIX shell: {@code it's} becomes {@code 'it'\''s'}. */
  public static String quote(String text) {
    return "'" + text.replace("'", "'\\''") + "'";
  }

  @Override
  public void close() {
    drop(session);
    client.stop();
  }
}
