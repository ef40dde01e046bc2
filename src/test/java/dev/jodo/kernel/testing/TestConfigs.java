package dev.jodo.kernel.testing;

import dev.jodo.kernel.platform.config.ConfigLoader;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Writes a config directory for a test and loads it with a controlled environment. */
public final class TestConfigs {
  public static final String MINIMAL_CONFIG =
      """
      kernel:
        port: 8080
      providers:
        ollama:
          base_url: "http://127.0.0.1:1"
          models:
            llama3:
              input_cost_per_1m_tokens: 0
              output_cost_per_1m_tokens: 0
              capabilities: [chat, quick]
              quality: 5
      routing:
        intent_preferences:
          chat: [ollama]
      """;

  public static final String GENESIS =
      """
      identity:
        name: "Jodo"
        version: 0
      purpose: "You are Jodo."
      first_tasks:
        - "Say hello"
      """;

  private TestConfigs() {}

  /** A directory holding config.yaml and genesis.yaml with the given texts. */
  public static Path directory(Path parent, String config, String genesis) {
    try {
      Path dir = Files.createDirectories(parent.resolve("configs"));
      Files.writeString(dir.resolve("config.yaml"), config);
      Files.writeString(dir.resolve("genesis.yaml"), genesis);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The environment a test kernel runs with: its own home and config dir, nothing inherited. */
  public static Map<String, String> env(Path home, Path configDir, Map<String, String> extra) {
    Map<String, String> env = new HashMap<>();
    env.put("JODO_HOME", home.toString());
    env.put("JODO_CONFIG_DIR", configDir.toString());
    env.putAll(extra);
    return env;
  }

  /** {@code config} loaded with {@code env} on {@code database}, on an ephemeral port. */
  public static KernelConfig kernelConfig(
      Path temp, DatabaseTarget.External database, String config, Map<String, String> env) {
    Path configDir = directory(temp, config, GENESIS);
    return new ConfigLoader(env(temp.resolve("home"), configDir, env))
        .load()
        .withDatabase(database)
        .withPort(0);
  }

  /** A loaded minimal config on {@code database}, listening on an ephemeral port. */
  public static KernelConfig kernelConfig(Path temp, DatabaseTarget.External database) {
    Path configDir = directory(temp, MINIMAL_CONFIG, GENESIS);
    return new ConfigLoader(env(temp.resolve("home"), configDir, Map.of()))
        .load()
        .withDatabase(database)
        .withPort(0);
  }
}
