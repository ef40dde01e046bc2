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
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The effective configuration as YAML for the config page: what the kernel runs with after
 * defaults, {@code ${ENV}} interpolation and {@code JODO_*} overrides. Every {@link Secret} reads
 * {@value #MASK}. Plain strings can carry secrets too (a key in a base URL's query, a password in a
 * URL's user info, {@code --api-key=$KEY} in an agent's command), so every string value is masked
 * by {@link #scrub}: what looks like a credential is replaced, the rest is left readable.
 */
final class ConfigView {
  static final String MASK = "****";

  // Every quantifier below is bounded: the patterns run over whatever the configuration holds, and
  // an unbounded name pattern backtracked cubically on a long run of "keykey…".

  /** A name that says it holds a credential: api_key, X-Api-Key, --token, db.password. */
  private static final String NAME =
      "[\\w.-]{0,40}(?:key|token|secret|passw(?:or)?d|pwd|pass|credentials?|auth)[\\w.-]{0,40}";

  /** A value: quoted (spaces and all) or up to the next space. */
  private static final String VALUE = "(?:\"[^\"]{0,400}\"|'[^']{0,400}'|[^\\s&'\"]{1,400})";

  /** {@code Authorization: <scheme> <credentials>} (any scheme), up to a quote or the line end. */
  private static final Pattern AUTHORIZATION =
      Pattern.compile("(?i)(\\bauthorization[\"']?\\s{0,5}[:=]\\s{0,5})[^'\"\\n]{1,400}");

  /** {@code Bearer …} or {@code Basic …} without the header name. */
  private static final Pattern SCHEME_CREDENTIAL =
      Pattern.compile("(?i)(\\b(?:bearer|basic)\\s{1,5})[^\\s'\"]{1,400}");

  /** curl's {@code -u user:password} / {@code --user user:password}. */
  private static final Pattern USER_FLAG =
      Pattern.compile("(\\s(?:-u|--user)(?:=|\\s{1,5}))(?!-)" + VALUE);

  /** {@code scheme://user:password@host}: the user info goes (up to the last @ of it). */
  private static final Pattern URL_USER_INFO =
      Pattern.compile("(\\b[a-zA-Z][\\w+.-]{0,20}://)[^/\\s]{0,400}@");

  /** A URL's query string ({@code ?key=…}, {@code ?password=…}): the whole query goes. */
  private static final Pattern URL_QUERY =
      Pattern.compile("(\\b[a-zA-Z][\\w+.-]{0,20}://[^\\s?#]{0,2000})\\?[^\\s#]{1,2000}");

  /**
   * {@code api_key=…}, {@code --token=…}, {@code password: …}, {@code "api_key":"…"}: the value
   * goes. A colon counts with a space or a quote after it, so {@code oauth.example.com:8443} keeps
   * its port.
   */
  private static final Pattern NAMED_VALUE =
      Pattern.compile("(?i)(" + NAME + "[\"']?\\s{0,5}(?:=|:\\s|:(?=[\"']))\\s{0,5})" + VALUE);

  /**
   * {@code password:X}, {@code X-Api-Key:X}: a colon right after a name that ends in a credential
   * word, unless a port number follows.
   */
  private static final Pattern NAMED_COLON =
      Pattern.compile(
          "(?i)(\\b[\\w.-]{0,40}(?:key|token|secret|passw(?:or)?d|pwd):)(?!\\d{1,5}\\b)[^\\s\"',;&/]{1,400}");

  /** {@code --api-key VALUE}, {@code --password "two words"}: the value after the flag goes. */
  private static final Pattern FLAG_VALUE =
      Pattern.compile("(?i)(\\s--?" + NAME.replace(".", "") + "\\s{1,5})(?!-)" + VALUE);

  /**
   * Keys by their look: well-known prefixes (sk-, ghp_, xoxb-, AKIA, AIza, glpat-), a Telegram bot
   * token, or a long mixed-case-and-digit word. Model names (lower case) stay readable.
   */
  private static final Pattern KEY_LOOKING =
      Pattern.compile(
          "(?<![\\w-])(?:(?:sk-|sk_|pk_|rk_|ghp_|gho_|ghs_|github_pat_|xox[abprs]-|glpat-|AKIA|AIza)"
              + "[\\w-]{8,400}|\\d{6,12}:[\\w-]{30,60}|[A-Fa-f0-9]{32,400})(?![\\w-])");

  private static final Pattern LONG_WORD = Pattern.compile("[\\w+=-]{24,400}");

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
    JsonNode warnings = root.remove("warnings"); // the kernel's own words, shown as they are
    scrubAll(root);
    if (warnings != null) {
      root.set("warnings", warnings);
    }
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
        out.put("url", external.jdbcUrl());
        out.put("user", external.user());
        out.put("password", external.password().value().isEmpty() ? "" : MASK);
      }
      case DatabaseTarget.Private ignored ->
          out.put("kind", "private (provisioned under JODO_HOME/postgres)");
    }
    out.put("max_pool_size", target.maxPoolSize());
    return out;
  }

  /** {@code text} with whatever looks like a credential replaced by {@value #MASK}. */
  static String scrub(String text) {
    String out = AUTHORIZATION.matcher(text).replaceAll("$1" + MASK);
    out = SCHEME_CREDENTIAL.matcher(out).replaceAll("$1" + MASK);
    out = URL_USER_INFO.matcher(out).replaceAll("$1" + MASK + "@");
    out = URL_QUERY.matcher(out).replaceAll("$1?" + MASK);
    out = NAMED_VALUE.matcher(out).replaceAll("$1" + MASK);
    out = NAMED_COLON.matcher(out).replaceAll("$1" + MASK);
    out = USER_FLAG.matcher(" " + out).replaceAll("$1" + MASK).substring(1);
    out = FLAG_VALUE.matcher(" " + out).replaceAll("$1" + MASK).substring(1);
    out = KEY_LOOKING.matcher(out).replaceAll(MASK);
    return LONG_WORD.matcher(out).replaceAll(m -> randomLooking(m.group()) ? MASK : "$0");
  }

  /** Upper case, lower case and digits together: how generated keys look, not names. */
  private static boolean randomLooking(String word) {
    boolean upper = false;
    boolean lower = false;
    boolean digit = false;
    for (int i = 0; i < word.length(); i++) {
      char ch = word.charAt(i);
      upper |= Character.isUpperCase(ch);
      lower |= Character.isLowerCase(ch);
      digit |= Character.isDigit(ch);
    }
    return upper && lower && digit;
  }

  private static void scrubAll(JsonNode node) {
    if (node instanceof ObjectNode object) {
      for (Map.Entry<String, JsonNode> field : object.properties()) {
        if (field.getValue().isTextual()) {
          field.setValue(TextNode.valueOf(scrub(field.getValue().textValue())));
        } else {
          scrubAll(field.getValue());
        }
      }
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        if (array.get(i).isTextual()) {
          array.set(i, TextNode.valueOf(scrub(array.get(i).textValue())));
        } else {
          scrubAll(array.get(i));
        }
      }
    }
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
