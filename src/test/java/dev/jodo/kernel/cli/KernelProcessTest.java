package dev.jodo.kernel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelProcessTest {
  @TempDir Path home;

  @Test
  void aPidFileNamingThisProcessIsStale() throws Exception {
    // A container restarted after a SIGKILL: the new JVM has the pid the old file names.
    Files.writeString(home.resolve("kernel.pid"), ProcessHandle.current().pid() + "\n");

    assertThat(new KernelProcess(home).running()).isEmpty();
  }

  @Test
  void aPidFileNamingADeadProcessIsStale() throws Exception {
    Process exited = new ProcessBuilder("true").start();
    exited.waitFor();
    Files.writeString(home.resolve("kernel.pid"), exited.pid() + "\n");

    assertThat(new KernelProcess(home).running()).isEmpty();
  }

  @Test
  void anotherLiveKernelIsFound() throws Exception {
    // Its command line names the jar, as a real kernel's does.
    Process other = new ProcessBuilder("sh", "-c", "sleep 60", "jodo-kernel.jar").start();
    try {
      Files.writeString(home.resolve("kernel.pid"), other.pid() + "\n");

      assertThat(new KernelProcess(home).running())
          .hasValueSatisfying(handle -> assertThat(handle.pid()).isEqualTo(other.pid()));
    } finally {
      other.destroyForcibly().waitFor();
    }
  }

  @Test
  void noPidFileMeansNoKernel() {
    assertThat(new KernelProcess(home).running()).isEmpty();
  }
}
