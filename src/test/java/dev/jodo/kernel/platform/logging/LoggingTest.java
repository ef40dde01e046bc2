package dev.jodo.kernel.platform.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.config.LogFormat;
import java.util.Map;
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
    // DBOS logs workflow arguments (an event's raw part) at debug: never, whatever the level.
    Logger dbos = LoggerFactory.getLogger("dev.dbos.transact.execution.DBOSExecutor");
    assertThat(dbos.isDebugEnabled()).isFalse();
    assertThat(dbos.isInfoEnabled()).isTrue();
    Logging.configure(LogFormat.PRETTY, "warn");
    assertThat(dbos.isInfoEnabled()).isFalse();
    Logging.configure(LogFormat.PRETTY, "info");
  }

  @Test
  void aRunsLinesCarryItsIdsAsJsonFields() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    JsonLayout layout = new JsonLayout();
    layout.setContext(context);
    layout.start();
    LoggingEvent event =
        new LoggingEvent(
            "x",
            context.getLogger("dev.jodo.kernel.runs.AgentTurn"),
            Level.INFO,
            "run started",
            null,
            null);
    event.setMDCPropertyMap(
        Map.of("run_id", "run_1", "workflow_name", "message", "conversation_key", "c1"));
    JsonNode line = new ObjectMapper().readTree(layout.doLayout(event));
    assertThat(line.path("message").asText()).isEqualTo("run started");
    assertThat(line.path("run_id").asText()).isEqualTo("run_1");
    assertThat(line.path("workflow_name").asText()).isEqualTo("message");
    assertThat(line.path("conversation_key").asText()).isEqualTo("c1");
  }
}
