package dev.jodo.kernel.platform.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import dev.jodo.kernel.platform.config.LogFormat;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets the process's log format and level. Logging is process-wide by nature: with two kernels in
 * one JVM (tests), the last one configured wins, which is harmless.
 */
public final class Logging {
  private Logging() {}

  public static void configure(LogFormat format, String level) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return;
    }
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.detachAndStopAllAppenders();

    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName("console");
    appender.setEncoder(encoder(context, format));
    appender.start();

    root.addAppender(appender);
    root.setLevel(Level.toLevel(level, Level.INFO));
    // Libraries are chatty at info; their warnings still show.
    for (String noisy :
        new String[] {"org.eclipse.jetty", "io.javalin", "com.zaxxer.hikari", "org.flywaydb"}) {
      context.getLogger(noisy).setLevel(Level.WARN);
    }
    // DJL (the bundled embedder's tokenizer) probes for CUDA at start and warns, twice, that a
    // machine without a GPU driver has none: the kernel never uses a GPU, so that is no news.
    context.getLogger("ai.djl.util.cuda").setLevel(Level.ERROR);
    // DBOS logs workflow arguments at debug, and an event's raw part may hold secrets.
    Level rootLevel = root.getLevel();
    context
        .getLogger("dev.dbos")
        .setLevel(rootLevel.isGreaterOrEqual(Level.INFO) ? rootLevel : Level.INFO);
  }

  private static Encoder<ILoggingEvent> encoder(LoggerContext context, LogFormat format) {
    switch (format) {
      case JSON -> {
        JsonLayout layout = new JsonLayout();
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        return encoder;
      }
      case PRETTY -> {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(
            "%d{HH:mm:ss.SSS} %-5level %-24logger{0} %msg%replace( [%mdc]){' \\[\\]', ''}%n%ex{short}");
        encoder.start();
        return encoder;
      }
      default -> throw new IllegalArgumentException("unknown log format " + format);
    }
  }
}
