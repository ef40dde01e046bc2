package dev.jodo.kernel.agents.ssh;

import dev.jodo.kernel.agents.AgentHostException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;

/**
 * One SSH login to an agent's machine with Apache MINA SSHD: key authentication, host keys pinned
 * on first use ({@link KnownHosts}), one session reused for every command and opened again when it
 * drops, and a time limit on every step (connect, authenticate, run). Commands run through the
 * remote user's shell; {@link #quote} makes any string one shell word.
 *
 * <pre>{@code
 * SshConnection ssh = new SshConnection("10.0.0.2", 22, "jodo", keyFile, knownHosts, Duration.ofSeconds(10));
 * SshConnection.Result r = ssh.exec("test -e " + SshConnection.quote(path), null, null);
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
    this.host = host;
    this.port = port;
    this.user = user;
    this.keyFile = keyFile;
    this.knownHosts = new KnownHosts(knownHostsFile);
    this.timeout = timeout;
    this.client = SshClient.setUpDefaultClient();
    client.setServerKeyVerifier(knownHosts);
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

  /** Runs {@code command}, waiting up to {@code limit} for it to finish. */
  public Result exec(String command, byte[] stdin, Duration limit) {
    ClientSession current = session();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (ChannelExec channel = current.createExecChannel(command)) {
      channel.setIn(new ByteArrayInputStream(stdin == null ? new byte[0] : stdin));
      channel.setOut(out);
      channel.setErr(err);
      channel.open().verify(timeout);
      Set<ClientChannelEvent> events =
          channel.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), limit.toMillis());
      if (events.contains(ClientChannelEvent.TIMEOUT)) {
        throw new AgentHostException(
            where() + ": a command did not finish within " + limit.toSeconds() + " s");
      }
      Integer status = channel.getExitStatus();
      return new Result(
          status == null ? -1 : status,
          out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      drop();
      throw new AgentHostException(where() + ": " + e.getMessage(), e);
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
    drop();
    if (!Files.isReadable(keyFile)) {
      throw new AgentHostException(
          where() + ": cannot read the private key " + keyFile + "; check ssh_key_path");
    }
    ClientSession opened = null;
    try {
      opened = client.connect(user, host, port).verify(timeout).getSession();
      opened.setKeyIdentityProvider(new FileKeyPairProvider(keyFile));
      opened.auth().verify(timeout);
      session = opened;
      return opened;
    } catch (IOException | RuntimeException e) {
      if (opened != null) {
        opened.close(true);
      }
      String why =
          knownHosts
              .mismatch()
              .orElseGet(() -> e.getMessage() == null ? e.toString() : e.getMessage());
      throw new AgentHostException(where() + ": " + why, e);
    }
  }

  private synchronized void drop() {
    if (session != null) {
      session.close(true);
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
    drop();
    client.stop();
  }
}
