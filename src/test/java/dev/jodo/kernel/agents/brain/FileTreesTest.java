package dev.jodo.kernel.agents.brain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
  @TempDir Path temp;

  @Test
  void copiesNestedFilesAndLinksAsLinks() throws IOException {
    Path outside = Files.writeString(temp.resolve("secret.txt"), "outside");
    Path source = temp.resolve("brain");
    Files.createDirectories(source.resolve(".git/objects"));
    Files.writeString(source.resolve(".git/HEAD"), "ref: refs/heads/main\n");
    Files.writeString(source.resolve("main.py"), "code");
    Files.createSymbolicLink(source.resolve("link"), outside);
    Files.createDirectories(source.resolve("empty"));

    Path target = temp.resolve("archive/brain-1");
    Files.createDirectories(target.getParent());
    FileTrees.copy(source, target);

    assertThat(Files.readString(target.resolve(".git/HEAD"))).isEqualTo("ref: refs/heads/main\n");
    assertThat(target.resolve(".git/objects")).isDirectory();
    assertThat(target.resolve("empty")).isDirectory();
    assertThat(Files.readString(target.resolve("main.py"))).isEqualTo("code");
    assertThat(Files.isSymbolicLink(target.resolve("link"))).isTrue();
    assertThat(Files.readSymbolicLink(target.resolve("link"))).isEqualTo(outside);
  }

  @Test
  void deletesTheTreeButNotWhatItsLinksPointAt() throws IOException {
    Path outside = Files.createDirectories(temp.resolve("elsewhere"));
    Files.writeString(outside.resolve("keep.txt"), "keep");
    Path root = temp.resolve("brain");
    Files.createDirectories(root.resolve("a/b"));
    Files.writeString(root.resolve("a/b/file.txt"), "x");
    Files.createSymbolicLink(root.resolve("a/link"), outside);

    FileTrees.delete(root);

    assertThat(root).doesNotExist();
    assertThat(Files.readString(outside.resolve("keep.txt"))).isEqualTo("keep");
  }
}
