package dev.jodo.kernel.memory.embed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.jar.JarEntry;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model bundled in a jar, as a file of its own: ONNX Runtime reads a file without the JVM
 * inflating the whole model into a {@code byte[]} first.
 *
 * <p>The file is unpacked once, named after the jar entry's CRC-32 and size ({@code
 * all-minilm-l6-v2-1a2b3c4d-90387606.onnx}), and checked against that CRC on every start (tens of
 * milliseconds for 90 MB, from the page cache). A file that is missing, short or altered is
 * unpacked again, through a temporary file and an atomic rename, so a crash halfway leaves no
 * partial model behind; files of other versions of the same model are removed, and so are partial
 * files an hour old. A model that is not in a jar (an exploded class path) is used where it is. The
 * jar is opened through a cached {@link JarURLConnection}, which stays open for the JVM.
 */
final class ModelFile {
  private static final Logger log = LoggerFactory.getLogger(ModelFile.class);

  /** A partial file this old is a crash's leftover, not another process still writing it. */
  static final Duration STALE_PART = Duration.ofHours(1);

  private ModelFile() {}

  /** The resource {@code name} as a checked file under {@code dir}. */
  static Path unpacked(ClassLoader loader, String name, Path dir) throws IOException {
    URL url = loader.getResource(name);
    if (url == null) {
      throw new IOException(name + " is not on the class path");
    }
    URLConnection connection = url.openConnection();
    if (!(connection instanceof JarURLConnection jar)) {
      try {
        return Path.of(url.toURI());
      } catch (URISyntaxException | IllegalArgumentException e) {
        throw new IOException("cannot read " + url + " as a file: " + e.getMessage(), e);
      }
    }
    JarEntry entry = jar.getJarEntry();
    String stem = name.substring(0, name.lastIndexOf('.'));
    String extension = name.substring(name.lastIndexOf('.'));
    String version = HexFormat.of().toHexDigits((int) entry.getCrc()) + "-" + entry.getSize();
    Path file = dir.resolve(stem + "-" + version + extension);
    if (Files.isRegularFile(file)
        && Files.size(file) == entry.getSize()
        && crc(file) == entry.getCrc()) {
      return file;
    }
    Files.createDirectories(dir);
    Path part = Files.createTempFile(dir, stem + "-", ".part");
    try {
      CRC32 crc = new CRC32();
      try (InputStream in = new CheckedInputStream(jar.getInputStream(), crc);
          OutputStream out = Files.newOutputStream(part)) {
        in.transferTo(out);
      }
      if (crc.getValue() != entry.getCrc()) {
        throw new IOException(name + " in " + jar.getJarFileURL() + " fails its CRC check");
      }
      Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(part);
    }
    try {
      removeOtherVersions(dir, stem, extension, file);
    } catch (IOException e) {
      log.warn("cannot remove older copies of {} from {}: {}", name, dir, e.toString());
    }
    return file;
  }

  /** Removes a file ONNX Runtime could not read, so that the next start unpacks it again. */
  static void discard(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // the CRC check at the next start replaces it anyway
    }
  }

  private static long crc(Path file) throws IOException {
    CRC32 crc = new CRC32();
    try (InputStream in = new CheckedInputStream(Files.newInputStream(file), crc)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return crc.getValue();
  }

  /** Other versions, and partial files older than {@link #STALE_PART} (a crash's leftovers). */
  private static void removeOtherVersions(Path dir, String stem, String extension, Path keep)
      throws IOException {
    Instant stale = Instant.now().minus(STALE_PART);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, stem + "-*")) {
      for (Path other : files) {
        String fileName = other.getFileName().toString();
        if (other.equals(keep)) {
          continue;
        }
        if (fileName.endsWith(extension)
            || (fileName.endsWith(".part")
                && Files.getLastModifiedTime(other).toInstant().isBefore(stale))) {
          discard(other);
        }
      }
    }
  }
}
