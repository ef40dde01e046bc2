package dev.jodo.kernel.platform.auth;

import dev.jodo.kernel.platform.config.Secret;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * {@code JODO_HOME/admin.token}: the admin token's plaintext, readable only by its owner, so that
 * {@code jodo token} can show it again on the machine that created it.
 */
public final class AdminTokenFile {
  private final Path file;

  public AdminTokenFile(Path home) {
    this.file = home.resolve("admin.token");
  }

  public Path path() {
    return file;
  }

  public Optional<Secret> read() {
    try {
      if (!Files.isRegularFile(file)) {
        return Optional.empty();
      }
      String text = Files.readString(file).strip();
      return text.isEmpty() ? Optional.empty() : Optional.of(new Secret(text));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Writes atomically with mode 600 from the start, so the token is never world-readable. */
  public void write(Secret token) {
    try {
      Files.createDirectories(file.getParent());
      Path temp =
          Files.createTempFile(
              file.getParent(),
              ".admin.token",
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(temp, token.value() + "\n");
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
