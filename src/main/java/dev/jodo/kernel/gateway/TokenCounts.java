package dev.jodo.kernel.gateway;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.jodo.kernel.gateway.provider.ChatMessage;
import dev.jodo.kernel.gateway.provider.ChatRequest;
import dev.jodo.kernel.gateway.provider.ToolCall;
import dev.jodo.kernel.gateway.provider.ToolSpec;
import java.util.List;

/**
 * Token arithmetic the gateway needs before and after a call.
 *
 * <p>{@link #upperBound} is what reservations use: every tokenizer in use (byte-level BPE and
 * SentencePiece with byte fallback) produces at most one token per UTF-8 byte, plus a few tokens of
 * framing per message, plus Anthropic's hidden tool-use system prompt. Reserving on this bound is
 * what makes "never over budget" hold by construction, not by estimate.
 *
 * <p>{@link #count} is the cl100k BPE count used when a provider reports no usage (some
 * OpenAI-compatible servers, and a stream our client abandoned). Its vocabulary (100k entries, a
 * few tenths of a second of CPU to build) loads at the first such count, not with the gateway: most
 * providers report usage, and a kernel's start is in the path of the runs it resumes.
 */
final class TokenCounts {
  private static final int FRAMING_PER_MESSAGE = 8;
  private static final int FRAMING_PER_REQUEST = 16;
  private static final int TOOL_USE_OVERHEAD = 512;

  /** Class initialisation is lazy and thread-safe: the first {@link #count} builds it. */
  private static final class Cl100k {
    static final Encoding ENCODING =
        Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.CL100K_BASE);
  }

  static long upperBound(ChatRequest request) {
    long bytes = FRAMING_PER_REQUEST + bytes(request.system());
    for (ChatMessage message : request.messages()) {
      bytes += FRAMING_PER_MESSAGE + bytes(message.content()) + bytes(message.toolCallId());
      for (ToolCall call : message.toolCalls()) {
        bytes +=
            FRAMING_PER_MESSAGE
                + bytes(call.id())
                + bytes(call.name())
                + bytes(call.argumentsJson());
      }
    }
    if (!request.tools().isEmpty()) {
      bytes += TOOL_USE_OVERHEAD;
      for (ToolSpec tool : request.tools()) {
        bytes +=
            FRAMING_PER_MESSAGE
                + bytes(tool.name())
                + bytes(tool.description())
                + (tool.parameters() == null ? 0 : bytes(tool.parameters().toString()));
      }
    }
    return bytes;
  }

  static long upperBound(List<String> inputs) {
    long bytes = FRAMING_PER_REQUEST;
    for (String input : inputs) {
      bytes += FRAMING_PER_MESSAGE + bytes(input);
    }
    return bytes;
  }

  int count(String text) {
    return text == null || text.isEmpty() ? 0 : Cl100k.ENCODING.countTokensOrdinary(text);
  }

  int countInput(ChatRequest request) {
    int tokens = 3 + count(request.system());
    for (ChatMessage message : request.messages()) {
      tokens += 4 + count(message.content());
      for (ToolCall call : message.toolCalls()) {
        tokens += 4 + count(call.name()) + count(call.argumentsJson());
      }
    }
    for (ToolSpec tool : request.tools()) {
      tokens +=
          4
              + count(tool.name())
              + count(tool.description())
              + (tool.parameters() == null ? 0 : count(tool.parameters().toString()));
    }
    return tokens;
  }

  int countInputs(List<String> inputs) {
    return inputs.stream().mapToInt(this::count).sum();
  }

  /** UTF-8 length without encoding the string (this runs on every call's whole prompt). */
  static long bytes(String text) {
    if (text == null) {
      return 0;
    }
    long bytes = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)) {
        bytes += 4; // with its low surrogate: one 4-byte code point
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }
}
