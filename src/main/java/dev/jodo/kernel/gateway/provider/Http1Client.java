package dev.jodo.kernel.gateway.provider;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * A blocking HTTP/1.1 client for one origin, built for virtual threads: the calling thread
 * connects, writes and reads itself (no selector thread, no futures), and connections whose
 * response was read to the end wait in a small LIFO pool for the next call.
 *
 * <pre>{@code
 * SSLSocketFactory tls = (SSLSocketFactory) SSLSocketFactory.getDefault();
 * try (Http1Client client = new Http1Client(URI.create("https://api.openai.com"), c, r, tls)) {
 *   Http1Response response = client.send("POST", "/v1/embeddings", headers, json);
 *   try (InputStream body = response.body()) {
 *     body.readAllBytes(); // read to the end: the connection goes back to the pool
 *   }
 * }
 * }</pre>
 */
final class Http1Client implements AutoCloseable {
  private static final int MAX_IDLE = 64;
  private static final long MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  /** Opening the connection failed (TCP connect or TLS handshake); the cause says why. */
  static final class ConnectFailure extends IOException {
    private static final long serialVersionUID = 1L;

    ConnectFailure(IOException cause) {
      super(cause.getMessage(), cause);
    }

    boolean timedOut() {
      return getCause() instanceof SocketTimeoutException;
    }
  }

  private final String host;
  private final int port;
  private final String hostHeader;
  private final int connectMillis;
  private final int readMillis;
  private final SSLSocketFactory tls;
  private final SNIServerName serverName;
  private final ConcurrentLinkedDeque<Http1Connection> idle = new ConcurrentLinkedDeque<>();
  private final AtomicInteger idleCount = new AtomicInteger();
  private volatile boolean closed;

  /**
   * @param origin an http or https URL; only its scheme, host and port are used
   * @param readTimeout bounds the wait for the response headers and each gap in the body
   * @param tls opens https connections; {@code SSLSocketFactory.getDefault()} trusts the JDK's CAs
   */
  Http1Client(URI origin, Duration connectTimeout, Duration readTimeout, SSLSocketFactory tls) {
    boolean https = "https".equalsIgnoreCase(origin.getScheme());
    if (!https && !"http".equalsIgnoreCase(origin.getScheme()) || origin.getHost() == null) {
      throw new IllegalArgumentException("not an http(s) URL: " + origin);
    }
    String uriHost = origin.getHost();
    this.host = uriHost.startsWith("[") ? uriHost.substring(1, uriHost.length() - 1) : uriHost;
    int defaultPort = https ? 443 : 80;
    this.port = origin.getPort() < 0 ? defaultPort : origin.getPort();
    this.hostHeader = port == defaultPort ? uriHost : uriHost + ":" + port;
    this.connectMillis = millis(connectTimeout);
    this.readMillis = millis(readTimeout);
    this.tls = https ? tls : null;
    this.serverName = https ? serverName(host) : null;
  }

  /**
   * Sends one request and returns once the response headers arrived; the caller must close the
   * body. {@code target} is the path and query; {@code body} is null for a request without one.
   */
  Http1Response send(String method, String target, Map<String, String> headers, byte[] body)
      throws IOException {
    byte[] head = head(method, target, headers, body);
    Http1Connection pooled = takeIdle();
    if (pooled != null) {
      long before = pooled.received();
      try {
        return exchange(pooled, head, body);
      } catch (IOException e) {
        if (!stale(e, pooled.received() != before)) {
          throw e;
        }
      }
    }
    return exchange(connect(), head, body);
  }

  /**
   * A pooled connection the server closed while it sat idle fails as we write, or ends (EOF, reset)
   * before the first byte of a status line. The request is a POST whose idempotency we cannot know,
   * so it is sent again only in that case, once, on a fresh connection: the rule browsers and
   * OkHttp follow for stale keep-alive connections. (A server that read the request and died
   * without answering looks the same and sees it twice; that rare cost buys not failing the common
   * race.) Never after any response byte, after a timeout, or on a fresh connection.
   */
  private boolean stale(IOException e, boolean responseStarted) {
    if (responseStarted || closed || Thread.currentThread().isInterrupted()) {
      return false;
    }
    return e instanceof EOFException
        || e instanceof SocketException
        || e instanceof SSLException && e.getCause() instanceof SocketException;
  }

  private Http1Response exchange(Http1Connection connection, byte[] head, byte[] body)
      throws IOException {
    try {
      connection.readTimeout(readMillis);
      connection.write(head, body);
      return readResponse(connection);
    } catch (IOException | RuntimeException e) {
      connection.close();
      throw e;
    }
  }

  private Http1Response readResponse(Http1Connection connection) throws IOException {
    while (true) {
      String statusLine = connection.readLine();
      if (statusLine == null) {
        throw new EOFException("connection closed before the response status line");
      }
      int status = status(statusLine);
      Map<String, String> headers = readHeaders(connection);
      if (status / 100 == 1 && status != 101) {
        continue; // 100 Continue, 103 Early Hints: the real answer follows
      }
      boolean keepAlive =
          statusLine.startsWith("HTTP/1.1") && !hasToken(headers.get("connection"), "close");
      return new Http1Response(
          status, headers, Http1Body.open(this, connection, status, headers, keepAlive));
    }
  }

  /** "HTTP/1.1 200 OK"; the reason phrase may be empty or missing. */
  private static int status(String line) throws IOException {
    boolean wellFormed =
        line.startsWith("HTTP/1.")
            && line.length() >= 12
            && line.charAt(8) == ' '
            && (line.length() == 12 || line.charAt(12) == ' ');
    for (int i = 9; wellFormed && i < 12; i++) {
      wellFormed = Character.isDigit(line.charAt(i));
    }
    if (!wellFormed) {
      throw new IOException("malformed status line: " + Http1Body.abbreviate(line));
    }
    return Integer.parseInt(line, 9, 12, 10);
  }

  private static Map<String, String> readHeaders(Http1Connection connection) throws IOException {
    Map<String, String> headers = new HashMap<>();
    int bytes = 0;
    for (String line = connection.readLine(); !"".equals(line); line = connection.readLine()) {
      if (line == null) {
        throw new EOFException("connection closed in the middle of the response headers");
      }
      bytes += line.length();
      int colon = line.indexOf(':');
      if (bytes > MAX_HEADER_BYTES || colon <= 0) {
        throw new IOException(
            bytes > MAX_HEADER_BYTES
                ? "response headers longer than " + MAX_HEADER_BYTES + " bytes"
                : "malformed response header: " + Http1Body.abbreviate(line));
      }
      String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      headers.merge(name, line.substring(colon + 1).strip(), (first, next) -> first + ", " + next);
    }
    return headers;
  }

  private static boolean hasToken(String list, String token) {
    if (list != null) {
      for (String part : list.split(",")) {
        if (part.strip().equalsIgnoreCase(token)) {
          return true;
        }
      }
    }
    return false;
  }

  private byte[] head(String method, String target, Map<String, String> headers, byte[] body) {
    StringBuilder head = new StringBuilder(256);
    head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(hostHeader).append("\r\n");
    boolean userAgent = false;
    for (Map.Entry<String, String> header : headers.entrySet()) {
      String name = header.getKey();
      checkHeader(name, header.getValue());
      userAgent |= name.equalsIgnoreCase("user-agent");
      head.append(name).append(": ").append(header.getValue()).append("\r\n");
    }
    if (!userAgent) {
      head.append("User-Agent: jodo-kernel\r\n");
    }
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    return head.append("\r\n").toString().getBytes(ISO_8859_1);
  }

  /** A CR or LF in a value (an API key pasted with its newline) would forge a header. */
  private static void checkHeader(String name, String value) {
    if (name.isEmpty()
        || name.equalsIgnoreCase("host")
        || name.equalsIgnoreCase("content-length")
        || !name.chars().allMatch(c -> c > ' ' && c < 0x7f && c != ':')) {
      throw new IllegalArgumentException("not a header the caller may set: " + name);
    }
    // The value is not echoed: it may be a key.
    if (!value.chars().allMatch(c -> c == '\t' || c >= ' ' && c != 0x7f && c <= 0xff)) {
      throw new IllegalArgumentException("header " + name + " has a control character");
    }
  }

  private Http1Connection connect() throws IOException {
    if (closed) {
      throw new IOException("client closed");
    }
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), connectMillis);
      return new Http1Connection(tls == null ? socket : handshake(socket));
    } catch (IOException e) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Already failing with the reason that matters.
      }
      throw new ConnectFailure(e);
    }
  }

  private SSLSocket handshake(Socket socket) throws IOException {
    SSLSocket tlsSocket = (SSLSocket) tls.createSocket(socket, host, port, true);
    SSLParameters parameters = tlsSocket.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name this host
    if (serverName != null) {
      parameters.setServerNames(List.of(serverName));
    }
    parameters.setApplicationProtocols(new String[] {"http/1.1"});
    tlsSocket.setSSLParameters(parameters);
    tlsSocket.setSoTimeout(connectMillis);
    tlsSocket.startHandshake();
    return tlsSocket;
  }

  /** SNI carries host names only; an IP literal, or a name SNI cannot carry, goes without. */
  private static SNIServerName serverName(String host) {
    if (host.contains(":") || host.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
      return null;
    }
    try {
      return new SNIHostName(host);
    } catch (IllegalArgumentException notSniName) {
      return null;
    }
  }

  /** The most recently used idle connection that has not idled too long, or null. */
  private Http1Connection takeIdle() {
    long now = System.nanoTime();
    for (Http1Connection connection; (connection = idle.pollFirst()) != null; ) {
      idleCount.decrementAndGet();
      if (!connection.idleLongerThan(MAX_IDLE_NANOS, now)) {
        return connection;
      }
      connection.close();
    }
    return null;
  }

  /** Called by a body read to its end on a keep-alive response. */
  void release(Http1Connection connection) {
    if (closed || connection.hasBufferedBytes()) {
      connection.close(); // bytes after the body mean the stream is out of step
      return;
    }
    long now = System.nanoTime();
    connection.markIdle(now);
    if (idleCount.incrementAndGet() > MAX_IDLE) {
      idleCount.decrementAndGet();
      connection.close();
      return;
    }
    idle.offerFirst(connection);
    if (closed) {
      closeIdle(); // close() ran while we pooled; don't leave the socket behind
      return;
    }
    // LIFO keeps the tail unused under steady load; close one expired connection per release.
    Http1Connection oldest = idle.peekLast();
    if (oldest != null
        && oldest.idleLongerThan(MAX_IDLE_NANOS, now)
        && idle.removeLastOccurrence(oldest)) {
      idleCount.decrementAndGet();
      oldest.close();
    }
  }

  /** Closes the idle connections; calls in flight keep theirs, which close when they finish. */
  @Override
  public void close() {
    closed = true;
    closeIdle();
  }

  private void closeIdle() {
    for (Http1Connection connection; (connection = idle.pollFirst()) != null; ) {
      idleCount.decrementAndGet();
      connection.close();
    }
  }

  private static int millis(Duration timeout) {
    return Math.clamp(timeout.toMillis(), 1, Integer.MAX_VALUE);
  }
}
