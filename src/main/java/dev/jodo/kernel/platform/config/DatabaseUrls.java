package dev.jodo.kernel.platform.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parses {@code JODO_DATABASE_URL} in either form users copy from elsewhere: JDBC's {@code
 * jdbc:postgresql://host:port/db?user=...} or libpq's {@code postgres://user:pass@host:port/db}.
 */
final class DatabaseUrls {
  static final String FIX =
      "use jdbc:postgresql://host:5432/db?user=u&password=p or postgres://u:p@host:5432/db";

  private DatabaseUrls() {}

  /** Returns the parsed target or throws {@link IllegalArgumentException} saying what is wrong. */
  static DatabaseTarget.External parse(String url, int maxPoolSize) {
    String trimmed = url.trim();
    if (trimmed.startsWith("jdbc:postgresql://")) {
      Map<String, String> query = query(URI.create(trimmed.substring("jdbc:".length())));
      return new DatabaseTarget.External(
          trimmed,
          query.getOrDefault("user", ""),
          new Secret(query.getOrDefault("password", "")),
          maxPoolSize);
    }
    if (trimmed.startsWith("postgres://") || trimmed.startsWith("postgresql://")) {
      URI uri;
      try {
        uri = new URI(trimmed);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("is not a valid URL (" + e.getReason() + "); " + FIX);
      }
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("has no host; " + FIX);
      }
      String database = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
      if (database.isEmpty()) {
        throw new IllegalArgumentException("has no database name; " + FIX);
      }
      String user = "";
      String password = "";
      if (uri.getRawUserInfo() != null) {
        String[] parts = uri.getRawUserInfo().split(":", 2);
        user = decode(parts[0]);
        password = parts.length > 1 ? decode(parts[1]) : "";
      }
      int port = uri.getPort() > 0 ? uri.getPort() : 5432;
      String jdbc =
          "jdbc:postgresql://"
              + uri.getHost()
              + ":"
              + port
              + "/"
              + database
              + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
      return new DatabaseTarget.External(jdbc, user, new Secret(password), maxPoolSize);
    }
    throw new IllegalArgumentException("is not a PostgreSQL URL; " + FIX);
  }

  /** The URL with any password replaced, for messages. */
  static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&]*", "$1****")
        .replaceAll("(://[^:/@]+:)[^@]*@", "$1****@");
  }

  private static Map<String, String> query(URI uri) {
    Map<String, String> result = new LinkedHashMap<>();
    if (uri.getRawQuery() == null) {
      return result;
    }
    for (String pair : uri.getRawQuery().split("&")) {
      String[] kv = pair.split("=", 2);
      result.put(decode(kv[0]), kv.length > 1 ? decode(kv[1]) : "");
    }
    return result;
  }

  private static String decode(String text) {
    return URLDecoder.decode(text, StandardCharsets.UTF_8);
  }
}
