package dev.jodo.kernel.dashboard;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.PropertyNamingStrategy;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The effective configuration as YAML for the config page: what the kernel runs with after
 * defaults, {@code ${ENV}} interpolation and {@code JODO_*} overrides. Every {@link Secret} reads
 * {@value #MASK}, and so does a password in the database URL.
 */
final class ConfigView {
  static final String MASK = "****";
  private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^&]*");

  /** config.yaml's key style: snake_case with digits set apart (input_cost_per_1m_tokens). */
  private static final PropertyNamingStrategy CONFIG_NAMES =
      new PropertyNamingStrategies.NamingBase() {
        private static final long serialVersionUID = 1L;

        @Override
        public String translate(String name) {
          String snake =
              ((PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE)
                  .translate(name);
          return snake.replaceAll("([a-z])([0-9])", "$1_$2");
        }
      };

  private ConfigView() {}

  static String effective(KernelConfig config) {
    ObjectMapper yaml = mapper();
    ObjectNode root = yaml.valueToTree(config);
    root.remove("genesis"); // shown on its own
    root.set("database", database(config.database(), yaml));
    return write(yaml, root);
  }

  static String genesis(JsonNode genesis) {
    return write(mapper(), genesis);
  }

  private static JsonNode database(DatabaseTarget target, ObjectMapper yaml) {
    ObjectNode out = yaml.createObjectNode();
    switch (target) {
      case DatabaseTarget.External external -> {
        out.put("kind", "external");
        out.put("url", URL_PASSWORD.matcher(external.jdbcUrl()).replaceAll("$1" + MASK));
        out.put("user", external.user());
        out.put("password", external.password().value().isEmpty() ? "" : MASK);
      }
      case DatabaseTarget.Private ignored ->
          out.put("kind", "private (provisioned under JODO_HOME/postgres)");
    }
    out.put("max_pool_size", target.maxPoolSize());
    return out;
  }

  private static String write(ObjectMapper yaml, JsonNode tree) {
    try {
      return yaml.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render the configuration: " + e.getMessage(), e);
    }
  }

  private static ObjectMapper mapper() {
    SimpleModule masking = new SimpleModule("jodo-config-view");
    masking.addSerializer(
        Secret.class,
        new JsonSerializer<>() {
          @Override
          public void serialize(Secret value, JsonGenerator gen, SerializerProvider serializers)
              throws IOException {
            gen.writeString(MASK);
          }
        });
    masking.addSerializer(
        Path.class,
        new JsonSerializer<>() {
          @Override
          public void serialize(Path value, JsonGenerator gen, SerializerProvider serializers)
              throws IOException {
            gen.writeString(value.toString());
          }
        });
    return new ObjectMapper(
            YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .build())
        .registerModule(new JavaTimeModule())
        .registerModule(new Jdk8Module())
        .registerModule(masking)
        .setPropertyNamingStrategy(CONFIG_NAMES)
        // isFree(), isUnlimited() and the like are derived, not configured: leave them out.
        .setVisibility(PropertyAccessor.IS_GETTER, JsonAutoDetect.Visibility.NONE)
        .enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
        .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
        .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
  }
}
