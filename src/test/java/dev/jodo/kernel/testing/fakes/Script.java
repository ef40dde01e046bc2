package dev.jodo.kernel.testing.fakes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** What a {@link FakeProvider} answers, frozen per request so a test can change it concurrently. */
record Script(
    String reply,
    Integer fixedInputTokens,
    Integer fixedOutputTokens,
    boolean reportUsage,
    ScriptedToolCall toolCall,
    Duration delay,
    Duration chunkDelay,
    List<String> streamChunks,
    int dropStreamAfter,
    int embeddingDimensions) {

  record ScriptedToolCall(String id, String name, String argumentsJson) {}

  /** The script a test is still changing; {@link #freeze()} takes what one request answers. */
  static final class Draft {
    String reply;
    Integer fixedInputTokens;
    Integer fixedOutputTokens;
    boolean reportUsage = true;
    ScriptedToolCall toolCall;
    Duration delay = Duration.ZERO;
    Duration chunkDelay = Duration.ZERO;
    List<String> streamChunks;
    int dropStreamAfter = -1;
    int embeddingDimensions = 8;

    Draft(String kind) {
      reply = "hello from " + kind;
    }

    Script freeze() {
      return new Script(
          reply,
          fixedInputTokens,
          fixedOutputTokens,
          reportUsage,
          toolCall,
          delay,
          chunkDelay,
          streamChunks,
          dropStreamAfter,
          embeddingDimensions);
    }
  }

  /** The streamed text pieces: as scripted, or the reply split after each space. */
  List<String> pieces() {
    if (streamChunks != null) {
      return streamChunks;
    }
    List<String> pieces = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < reply.length(); i++) {
      if (reply.charAt(i) == ' ') {
        pieces.add(reply.substring(start, i + 1));
        start = i + 1;
      }
    }
    if (start < reply.length()) {
      pieces.add(reply.substring(start));
    }
    return pieces;
  }

  /** A tool call's JSON text in three pieces, as providers stream arguments. */
  List<String> argumentPieces() {
    String text = toolCall.argumentsJson();
    int third = Math.max(1, (text.length() + 2) / 3);
    List<String> pieces = new ArrayList<>();
    for (int i = 0; i < text.length(); i += third) {
      pieces.add(text.substring(i, Math.min(text.length(), i + third)));
    }
    return pieces;
  }

  int inputTokens(int promptWords) {
    return fixedInputTokens != null ? fixedInputTokens : promptWords;
  }

  /** Words of what was answered: the streamed or whole reply, or the tool call's arguments. */
  int outputTokens(boolean streamed) {
    if (fixedOutputTokens != null) {
      return fixedOutputTokens;
    }
    if (toolCall != null) {
      return Math.max(1, words(toolCall.argumentsJson()));
    }
    return words(streamed ? String.join("", pieces()) : reply);
  }

  static int words(String text) {
    String trimmed = text == null ? "" : text.strip();
    return trimmed.isEmpty() ? 0 : trimmed.split("\\s+").length;
  }

  /** A unit vector derived from the text alone, so equal inputs embed equally across runs. */
  float[] vector(String input) {
    long seed;
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(input.getBytes(StandardCharsets.UTF_8));
      seed = 0;
      for (int i = 0; i < 8; i++) {
        seed = (seed << 8) | (hash[i] & 0xff);
      }
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    SplittableRandom random = new SplittableRandom(seed);
    float[] vector = new float[embeddingDimensions];
    double norm = 0;
    for (int i = 0; i < vector.length; i++) {
      vector[i] = (float) random.nextDouble(-1, 1);
      norm += vector[i] * vector[i];
    }
    double length = Math.sqrt(norm);
    for (int i = 0; i < vector.length; i++) {
      vector[i] = (float) (vector[i] / length);
    }
    return vector;
  }
}
