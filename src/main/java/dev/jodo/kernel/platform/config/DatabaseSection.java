package dev.jodo.kernel.platform.config;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code database:} and {@code JODO_DATABASE_URL}; the variable wins over the section. */
final class DatabaseSection {
  private DatabaseSection() {}

  static DatabaseTarget read(
      ConfigNode section, Map<String, String> env, List<ConfigProblem> problems) {
    section.allowOnly(Set.of("url", "host", "port", "name", "user", "password", "max_pool_size"));
    int pool = section.integer("max_pool_size", 10, 1, 200);
    String url = env.get("JODO_DATABASE_URL");
    if (url != null && !url.isBlank()) {
      try {
        return DatabaseUrls.parse(url, pool);
      } catch (IllegalArgumentException e) {
        problems.add(
            new ConfigProblem(
                "environment",
                "JODO_DATABASE_URL",
                ConfigNode.quote(DatabaseUrls.redact(url)) + " " + e.getMessage()));
        return new DatabaseTarget.Private(pool);
      }
    }
    if (section.isMissing()) {
      return new DatabaseTarget.Private(pool);
    }
    if (section.has("url")) {
      String sectionUrl = section.string("url", "");
      try {
        return DatabaseUrls.parse(sectionUrl, pool);
      } catch (IllegalArgumentException e) {
        section.problem(
            "url", ConfigNode.quote(DatabaseUrls.redact(sectionUrl)) + " " + e.getMessage());
        return new DatabaseTarget.Private(pool);
      }
    }
    if (!section.has("host")) {
      // Only tuning keys such as max_pool_size: still the private cluster.
      return new DatabaseTarget.Private(pool);
    }
    String host = section.string("host", "localhost");
    int port = section.integer("port", 5432, 1, 65535);
    String name = section.string("name", "jodo_kernel");
    String user = section.string("user", "jodo");
    String password = section.string("password", "");
    String jdbc =
        "jdbc:postgresql://"
            + host
            + ":"
            + port
            + "/"
            + URLEncoder.encode(name, StandardCharsets.UTF_8);
    return new DatabaseTarget.External(jdbc, user, new Secret(password), pool);
  }
}
