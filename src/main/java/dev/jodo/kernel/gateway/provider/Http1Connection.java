package dev.jodo.kernel.gateway.provider;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;

/**
 * One HTTP/1.1 connection: the socket, a read buffer and a write buffer, both allocated once and
 * reused for every exchange the connection serves. Only one thread uses it at a time (the pool
 * hands it out exclusively); {@link #close()} may come from any thread.
 */
final class Http1Connection implements AutoCloseable {
  private static final int BUFFER_SIZE = 16 * 1024;
  private static final int MAX_LINE = 16 * 1024;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final byte[] buffer = new byte[BUFFER_SIZE];
  private int position;
  private int limit;
  private long received;
  private volatile long idleSince; // read by other threads trimming the pool

  Http1Connection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = new BufferedOutputStream(socket.getOutputStream(), BUFFER_SIZE);
  }

  /** Bounds every following read: the wait for a response, and each gap while reading its body. */
  void readTimeout(int millis) throws SocketException {
    socket.setSoTimeout(millis);
  }

  /** Head and body in one flush, so a small request leaves in one segment. */
  void write(byte[] head, byte[] body) throws IOException {
    out.write(head);
    if (body != null) {
      out.write(body);
    }
    out.flush();
  }

  /** Bytes read from the socket since the connection opened; tells "nothing arrived" apart. */
  long received() {
    return received;
  }

  /** Response bytes already read but not consumed; a connection holding any is not reusable. */
  boolean hasBufferedBytes() {
    return position < limit;
  }

  /**
   * One line without its CRLF (a bare LF is tolerated), or null when the stream ends before the
   * line's first byte.
   */
  String readLine() throws IOException {
    StringBuilder partial = null;
    while (true) {
      if (position == limit && !fill()) {
        if (partial == null) {
          return null;
        }
        throw new EOFException("connection closed in the middle of a line");
      }
      int start = position;
      while (position < limit && buffer[position] != '\n') {
        position++;
      }
      int end = position;
      boolean complete = end < limit;
      if (complete) {
        position++; // past the LF
      }
      if (partial == null) {
        if (complete && end - start <= MAX_LINE) {
          return new String(buffer, start, withoutCr(start, end) - start, ISO_8859_1);
        }
        partial = new StringBuilder();
      }
      partial.append(new String(buffer, start, end - start, ISO_8859_1));
      if (partial.length() > MAX_LINE) {
        throw new IOException("response line longer than " + MAX_LINE + " bytes");
      }
      if (complete) {
        int length = partial.length();
        return partial.substring(
            0, length > 0 && partial.charAt(length - 1) == '\r' ? length - 1 : length);
      }
    }
  }

  private int withoutCr(int start, int end) {
    return end > start && buffer[end - 1] == '\r' ? end - 1 : end;
  }

  /** Up to {@code length} body bytes, from the buffer first; -1 at the end of the stream. */
  int read(byte[] target, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    if (position == limit) {
      if (length >= buffer.length) {
        int n = in.read(target, offset, length); // a large read skips the copy
        received += Math.max(n, 0);
        return n;
      }
      if (!fill()) {
        return -1;
      }
    }
    int n = Math.min(length, limit - position);
    System.arraycopy(buffer, position, target, offset, n);
    position += n;
    return n;
  }

  private boolean fill() throws IOException {
    int n = in.read(buffer, 0, buffer.length);
    if (n <= 0) {
      return false;
    }
    position = 0;
    limit = n;
    received += n;
    return true;
  }

  void markIdle(long now) {
    idleSince = now;
  }

  boolean idleLongerThan(long nanos, long now) {
    return now - idleSince > nanos;
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // The socket is gone either way.
    }
  }
}
