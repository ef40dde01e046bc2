package dev.jodo.kernel.agents.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jodo.kernel.agents.AgentHostException;
import dev.jodo.kernel.testing.TestSshServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SshConnection} against a real SSH server on loopback: the key types people have, key files
 * that are no use, a session the host closed, a command that hangs, and quoting.
 */
class SshConnectionTest {
  private static final String USER = System.getProperty("user.name");

  @TempDir Path dir;
  private TestSshServer server;
  private SshConnection ssh;

  @BeforeEach
  void setUp() {
    server = TestSshServer.start(dir.resolve("server"));
  }

  @AfterEach
  void tearDown() {
    if (ssh != null) {
      ssh.close();
    }
    server.close();
  }

  private SshConnection connect(Path key, Duration timeout) {
    return new SshConnection(
        "127.0.0.1", server.port(), USER, key, dir.resolve("known_hosts"), timeout);
  }

  @Test
  void ed25519AndRsaKeysInOpenSshFormatLogIn() throws Exception {
    for (KeyPair key :
        List.of(
            KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256),
            KeyUtils.generateKeyPair(KeyPairProvider.SSH_RSA, 2048))) {
      Path file = dir.resolve("id_" + KeyUtils.getKeyType(key));
      TestSshServer.writePrivateKey(key, file);
      assertThat(Files.readString(file)).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----");
      server.authorize(key.getPublic());
      try (SshConnection connection = connect(file, Duration.ofSeconds(10))) {
        assertThat(connection.exec("echo in", null))
            .as(KeyUtils.getKeyType(key))
            .isEqualTo(new SshConnection.Result(0, "in\n", ""));
      }
    }
  }

  @Test
  void aKeyTheHostDoesNotKnowIsRefused() throws Exception {
    Path file = dir.resolve("id_stranger");
    TestSshServer.writePrivateKey(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256), file);
    ssh = connect(file, Duration.ofSeconds(10));
    assertThatThrownBy(() -> ssh.exec("true", null))
        .isInstanceOf(AgentHostException.class)
        .hasMessageStartingWith("ssh " + USER + "@127.0.0.1:" + server.port() + ": ");
    assertThat(server.execs()).isZero();
  }

  @Test
  void aMissingOrUnusableKeyFileIsNamedWithTheFix() throws Exception {
    String where = "ssh " + USER + "@127.0.0.1:" + server.port() + ": ";
    Path missing = dir.resolve("no_such_key");
    ssh = connect(missing, Duration.ofSeconds(10));
    assertThatThrownBy(() -> ssh.exec("true", null))
        .isInstanceOf(AgentHostException.class)
        .hasMessage(where + "cannot read the private key " + missing + "; check ssh_key_path");
    ssh.close();

    Path garbage = Files.writeString(dir.resolve("id_garbage"), "not a key\n");
    ssh = connect(garbage, Duration.ofSeconds(10));
    assertThatThrownBy(() -> ssh.exec("true", null))
        .isInstanceOf(AgentHostException.class)
        .hasMessageStartingWith(
            where
                + "cannot use the private key "
                + garbage
                + ": it must be an unencrypted OpenSSH private key (ed25519, ECDSA or RSA)")
        .hasMessageNotContaining("not a key");
    assertThat(server.execs()).isZero();
  }

  @Test
  void aSessionTheHostClosedIsOpenedAgainAndTheCommandRunsOnce() throws Exception {
    ssh = connect(server.clientKey(), Duration.ofSeconds(10));
    assertThat(ssh.exec("echo one", null).stdout()).isEqualTo("one\n");
    int port = server.port();
    KeyPair hostKey = server.serverKey();
    server.close(); // sshd restarted: the session the connection holds is gone
    server = TestSshServer.start(dir.resolve("server"), port, hostKey);

    Path counter = dir.resolve("runs");
    assertThat(ssh.exec("echo x >> " + SshConnection.quote(counter.toString()), null).ok())
        .isTrue();
    assertThat(Files.readAllLines(counter)).containsExactly("x");
    assertThat(server.execs()).isEqualTo(1);
  }

  @Test
  void aCommandThatOutlivesTheTimeoutFailsWithinItAndTheNextOneRuns() {
    ssh = connect(server.clientKey(), Duration.ofSeconds(1));
    assertThat(ssh.exec("true", null).ok()).isTrue();
    long started = System.nanoTime();
    assertThatThrownBy(() -> ssh.exec("sleep 30", null))
        .isInstanceOf(AgentHostException.class)
        .hasMessage(
            "ssh "
                + USER
                + "@127.0.0.1:"
                + server.port()
                + ": a command did not finish within"
                + " 1000 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
    assertThat(ssh.exec("echo still here", null).stdout()).isEqualTo("still here\n");
  }

  @Test
  void quotedTextReachesTheRemoteCommandAsOneWordUnchanged() {
    ssh = connect(server.clientKey(), Duration.ofSeconds(10));
    for (String text :
        List.of("plain", "it's", "'", "''", "$HOME `id` $(id) \"x\" \\ ; | & * ?", "a\nb", "")) {
      assertThat(ssh.exec("printf %s " + SshConnection.quote(text), null).stdout()).isEqualTo(text);
    }
  }

  @Test
  void stdinReachesTheCommandAndStderrAndTheExitCodeComeBack() {
    ssh = connect(server.clientKey(), Duration.ofSeconds(10));
    byte[] input = "line one\nline two\n".getBytes(StandardCharsets.UTF_8);
    assertThat(ssh.exec("wc -l; echo oops >&2; exit 3", input))
        .isEqualTo(new SshConnection.Result(3, "2\n", "oops\n"));
    assertThatThrownBy(() -> ssh.check("listing", "ls /nonexistent-jodo-dir", null))
        .isInstanceOf(AgentHostException.class)
        .hasMessageStartingWith(
            "ssh " + USER + "@127.0.0.1:" + server.port() + ": listing failed (exit 2): ls: ")
        .hasMessageContaining("/nonexistent-jodo-dir");
  }

  @Test
  void badSettingsFailAtOnce() {
    Path key = server.clientKey();
    Path known = dir.resolve("known_hosts");
    Duration ten = Duration.ofSeconds(10);
    assertThatThrownBy(() -> new SshConnection(" ", 22, USER, key, known, ten))
        .hasMessage("ssh host must not be blank");
    assertThatThrownBy(() -> new SshConnection("h", 0, USER, key, known, ten))
        .hasMessage("not a valid ssh port: 0");
    assertThatThrownBy(() -> new SshConnection("h", 22, "", key, known, ten))
        .hasMessage("ssh user must not be blank");
    assertThatThrownBy(() -> new SshConnection("h", 22, USER, key, known, Duration.ZERO))
        .hasMessage("ssh timeout must be positive: PT0S");
  }
}
