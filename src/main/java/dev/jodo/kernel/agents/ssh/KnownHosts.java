package dev.jodo.kernel.agents.ssh;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.PublicKey;
import java.util.List;
import java.util.Optional;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host keys pinned on first use, in an OpenSSH-style {@code known_hosts} file under {@code
 * JODO_HOME}: the first key a host shows is written down; a later, different key is refused (it may
 * be a machine in the middle), with {@link #mismatch} saying which line to remove if the host was
 * really reinstalled.
 */
final class KnownHosts implements ServerKeyVerifier {
  private static final Logger log = LoggerFactory.getLogger(KnownHosts.class);

  private final Path file;
  private volatile String mismatch;

  KnownHosts(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  /** Why the last key was refused, if it was. */
  Optional<String> mismatch() {
    return Optional.ofNullable(mismatch);
  }

  static String hostEntry(String host, int port) {
    return port == 22 ? host : "[" + host + "]:" + port;
  }

  @Override
  public boolean verifyServerKey(ClientSession session, SocketAddress remote, PublicKey key) {
    String host =
        hostEntry(
            session.getConnectAddress() instanceof java.net.InetSocketAddress a
                ? a.getHostString()
                : String.valueOf(session.getConnectAddress()),
            port(session));
    String shown = PublicKeyEntry.toString(key);
    synchronized (KnownHosts.class) {
      Optional<String> known = lookup(host);
      if (known.isEmpty()) {
        append(host + " " + shown);
        log.info(
            "ssh: pinned the host key of {} ({}) in {}", host, KeyUtils.getFingerPrint(key), file);
        mismatch = null;
        return true;
      }
      if (known.get().equals(shown)) {
        mismatch = null;
        return true;
      }
      mismatch =
          "the host key of "
              + host
              + " changed (now "
              + KeyUtils.getFingerPrint(key)
              + "): refused, as it may be another machine in the middle; if the host was"
              + " reinstalled, remove its line from "
              + file;
      log.warn("ssh: {}", mismatch);
      return false;
    }
  }

  private static int port(ClientSession session) {
    return session.getConnectAddress() instanceof java.net.InetSocketAddress a ? a.getPort() : 22;
  }

  private Optional<String> lookup(String host) {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (String line : lines) {
        String trimmed = line.strip();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
          continue;
        }
        int space = trimmed.indexOf(' ');
        if (space > 0 && trimmed.substring(0, space).equals(host)) {
          return Optional.of(trimmed.substring(space + 1).strip());
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private void append(String line) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(
          file,
          line + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
