package dev.jodo.kernel.platform.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/** Token text: a readable prefix and 32 random bytes; only SHA-256 hashes are stored. */
final class Tokens {
  static final String ADMIN_PREFIX = "jodo_admin_";
  static final String AGENT_PREFIX = "jodo_agent_";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Tokens() {}

  static String generate(String prefix) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static byte[] hash(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** What may be shown of a token: its kind and first four random characters. */
  static String displayPrefix(String token) {
    int cut = token.startsWith(ADMIN_PREFIX) ? ADMIN_PREFIX.length() : AGENT_PREFIX.length();
    return token.substring(0, Math.min(token.length(), cut + 4)) + "…";
  }
}
