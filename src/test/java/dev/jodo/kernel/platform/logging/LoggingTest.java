package dev.jodo.kernel.platform.logging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.platform.config.LogFormat;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class LoggingTest {
  @Test
  void librariesSpeakUpOnlyWhenItMattersAndTheKernelAtItsLevel() {
    Logging.configure(LogFormat.PRETTY, "info");

    Logger kernel = LoggerFactory.getLogger("dev.jodo.kernel.Kernel");
    Logger jetty = LoggerFactory.getLogger("org.eclipse.jetty.server.Server");
    Logger cuda = LoggerFactory.getLogger("ai.djl.util.cuda.CudaUtils");
    assertThat(kernel.isInfoEnabled()).isTrue();
    assertThat(kernel.isDebugEnabled()).isFalse();
    assertThat(jetty.isInfoEnabled()).isFalse();
    assertThat(jetty.isWarnEnabled()).isTrue();
    // DJL's "Failed to detect GPU count" on every start of a machine without CUDA.
    assertThat(cuda.isWarnEnabled()).isFalse();
    assertThat(cuda.isErrorEnabled()).isTrue();

    Logging.configure(LogFormat.PRETTY, "debug");
    assertThat(kernel.isDebugEnabled()).isTrue();
    assertThat(cuda.isWarnEnabled()).isFalse();
  }
}
