package dev.jodo.kernel.gateway.provider;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Objects;

/**
 * A response body framed by {@code Content-Length}, by chunked transfer coding, or by the end of
 * the connection. Read to its end, it hands the connection back to the pool (or closes it when the
 * response said {@code Connection: close}). Closed early, it drops the connection: that is how an
 * aborted stream stops the provider generating, and billing, the rest of the answer.
 */
final class Http1Body extends InputStream {
  private static final int MAX_TRAILER_BYTES = 16 * 1024;

  /**
   * What {@link #close()} may still read to keep the connection: the chunked terminator ({@code
   * "\r\n0\r\n\r\n"}) that usually follows a stream's final event, not the rest of an answer.
   */
  private static final int FINISH_BUDGET = 64;

  private static final int FINISH_MILLIS = 10;

  private enum Framing {
    LENGTH,
    CHUNKED,
    UNTIL_CLOSE
  }

  private final Http1Client client;
  private final Http1Connection connection;
  private final Framing framing;
  private final boolean keepAlive;
  private long remaining; // LENGTH: bytes left in the body; CHUNKED: bytes left in this chunk
  private boolean inChunk; // CHUNKED: a chunk's data began, so its CRLF precedes the next size
  private boolean ended;
  private boolean failed;
  private boolean closed;
  private byte[] single;

  private Http1Body(
      Http1Client client,
      Http1Connection connection,
      Framing framing,
      long length,
      boolean keepAlive) {
    this.client = client;
    this.connection = connection;
    this.framing = framing;
    this.remaining = length;
    this.keepAlive = keepAlive && framing != Framing.UNTIL_CLOSE;
    if (framing == Framing.LENGTH && length == 0) {
      end();
    }
  }

  /** Picks the framing as RFC 9112 section 6.3 orders it. */
  static Http1Body open(
      Http1Client client,
      Http1Connection connection,
      int status,
      Map<String, String> headers,
      boolean keepAlive)
      throws IOException {
    if (status == 204 || status == 304) {
      return new Http1Body(client, connection, Framing.LENGTH, 0, keepAlive);
    }
    String codings = headers.get("transfer-encoding");
    if (codings != null) {
      // Only a final "chunked" frames the body; any other coding runs until the server closes.
      boolean chunked = lastToken(codings).equalsIgnoreCase("chunked");
      return new Http1Body(
          client, connection, chunked ? Framing.CHUNKED : Framing.UNTIL_CLOSE, 0, keepAlive);
    }
    String length = headers.get("content-length");
    if (length != null) {
      return new Http1Body(client, connection, Framing.LENGTH, contentLength(length), keepAlive);
    }
    return new Http1Body(client, connection, Framing.UNTIL_CLOSE, 0, false);
  }

  @Override
  public int read() throws IOException {
    if (single == null) {
      single = new byte[1];
    }
    int n = read(single, 0, 1);
    return n < 0 ? -1 : single[0] & 0xff;
  }

  @Override
  public int read(byte[] target, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, target.length);
    if (closed) {
      throw new IOException("response body closed");
    }
    return readFramed(target, offset, length);
  }

  private int readFramed(byte[] target, int offset, int length) throws IOException {
    if (ended) {
      return -1;
    }
    if (length == 0) {
      return 0;
    }
    try {
      return switch (framing) {
        case LENGTH -> readLength(target, offset, length);
        case CHUNKED -> readChunked(target, offset, length);
        case UNTIL_CLOSE -> readUntilClose(target, offset, length);
      };
    } catch (IOException e) {
      failed = true;
      connection.close();
      throw e;
    }
  }

  private int readLength(byte[] target, int offset, int length) throws IOException {
    int n = connection.read(target, offset, (int) Math.min(length, remaining));
    if (n < 0) {
      throw new EOFException(
          "connection closed with " + remaining + " bytes of the response body still to come");
    }
    remaining -= n;
    if (remaining == 0) {
      end();
    }
    return n;
  }

  private int readChunked(byte[] target, int offset, int length) throws IOException {
    if (remaining == 0 && !nextChunk()) {
      end();
      return -1;
    }
    int n = connection.read(target, offset, (int) Math.min(length, remaining));
    if (n < 0) {
      throw new EOFException("connection closed in the middle of a chunk");
    }
    remaining -= n;
    return n;
  }

  /** Reads the next chunk's size line; false after the last chunk and its trailers. */
  private boolean nextChunk() throws IOException {
    if (inChunk && !"".equals(connection.readLine())) {
      throw new IOException("chunk data not followed by CRLF");
    }
    String line = connection.readLine();
    if (line == null) {
      throw new EOFException("connection closed before the next chunk");
    }
    int extensions = line.indexOf(';');
    String hex = (extensions < 0 ? line : line.substring(0, extensions)).strip();
    long size;
    try {
      size = hex.isEmpty() || hex.charAt(0) == '+' ? -1 : Long.parseLong(hex, 16);
    } catch (NumberFormatException e) {
      size = -1;
    }
    if (size < 0) {
      throw new IOException("malformed chunk size: " + abbreviate(line));
    }
    if (size > 0) {
      remaining = size;
      inChunk = true;
      return true;
    }
    int trailerBytes = 0;
    for (String trailer = connection.readLine(); !"".equals(trailer); ) {
      if (trailer == null) {
        throw new EOFException("connection closed in the chunked trailer");
      }
      trailerBytes += trailer.length();
      if (trailerBytes > MAX_TRAILER_BYTES) {
        throw new IOException("chunked trailer longer than " + MAX_TRAILER_BYTES + " bytes");
      }
      trailer = connection.readLine();
    }
    return false;
  }

  private int readUntilClose(byte[] target, int offset, int length) throws IOException {
    int n = connection.read(target, offset, length);
    if (n < 0) {
      end();
    }
    return n;
  }

  private void end() {
    ended = true;
    if (keepAlive) {
      client.release(connection);
    } else {
      connection.close();
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (!ended && (failed || framing == Framing.UNTIL_CLOSE || !finishQuickly())) {
      connection.close();
    }
    closed = true;
  }

  /**
   * A caller that stops at the protocol's final event leaves only the body's end on the wire,
   * usually already buffered. Reading up to {@link #FINISH_BUDGET} bytes for at most {@link
   * #FINISH_MILLIS} per read saves the connection; a body with more to come is dropped.
   */
  private boolean finishQuickly() {
    try {
      connection.readTimeout(FINISH_MILLIS);
      byte[] sink = new byte[FINISH_BUDGET];
      int drained = 0;
      while (!ended && drained <= FINISH_BUDGET) {
        int n = readFramed(sink, 0, sink.length);
        if (n < 0) {
          break;
        }
        drained += n;
      }
      return ended;
    } catch (IOException e) {
      return false;
    }
  }

  private static String lastToken(String list) {
    return list.substring(list.lastIndexOf(',') + 1).strip();
  }

  /** Repeated identical values ("42, 42") are allowed; anything else cannot frame a body. */
  private static long contentLength(String value) throws IOException {
    long length = -1;
    for (String part : value.split(",", -1)) {
      long parsed;
      try {
        parsed = Long.parseLong(part.strip());
      } catch (NumberFormatException e) {
        parsed = -1;
      }
      if (parsed < 0 || (length >= 0 && parsed != length)) {
        throw new IOException("malformed Content-Length: " + abbreviate(value));
      }
      length = parsed;
    }
    return length;
  }

  static String abbreviate(String text) {
    return text.length() <= 80 ? text : text.substring(0, 80) + "...";
  }
}
