package dev.jodo.kernel.agents;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The bootloader travels in the jar: a kernel deploys it from its own classpath. */
class SeedResourceTest {
  @Test
  void theJarCarriesSeedPyAsWritten() throws Exception {
    try (InputStream in = SeedResourceTest.class.getResourceAsStream("/seed/seed.py")) {
      assertThat(in).as("/seed/seed.py on the classpath").isNotNull();
      assertThat(in.readAllBytes()).isEqualTo(Files.readAllBytes(Path.of("seed/seed.py")));
    }
  }
}
