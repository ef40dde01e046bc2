package dev.jodo.kernel.gateway.provider;

import static dev.jodo.kernel.gateway.provider.ClientTestSupport.MAPPER;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.SHORT_TIMEOUT;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.eventually;
import static dev.jodo.kernel.gateway.provider.ClientTestSupport.json;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.jodo.kernel.platform.config.ProviderType;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Http1ClientTest {
  private static final Duration PATIENT = Duration.ofSeconds(5);
  private static final SSLSocketFactory DEFAULT_TLS =
      (SSLSocketFactory) SSLSocketFactory.getDefault();
  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  @Test
  void sendsOneRequestAndReadsAContentLengthBody() throws Exception {
    TestServer server =
        serve(
            (request, in, out) ->
                write(
                    out, "HTTP/1.1 200 OK\r\nX-Request-Id: r-1\r\nContent-Length: 5\r\n\r\nhello"));
    Http1Client client = client(server.url());

    Http1Response response =
        client.send(
            "POST",
            "/v1/echo?mode=plain",
            Map.of("authorization", "Bearer sk-1"),
            "{\"q\":1}".getBytes(UTF_8));

    assertThat(response.status()).isEqualTo(200);
    assertThat(response.header("X-REQUEST-ID")).contains("r-1");
    assertThat(text(response)).isEqualTo("hello");
    TestServer.Request request = server.requests.get(0);
    assertThat(request.line()).isEqualTo("POST /v1/echo?mode=plain HTTP/1.1");
    assertThat(request.headers())
        .containsEntry("host", "127.0.0.1:" + server.port())
        .containsEntry("authorization", "Bearer sk-1")
        .containsEntry("content-length", "7")
        .doesNotContainKey("accept-encoding");
    assertThat(request.body()).isEqualTo("{\"q\":1}");
  }

  @Test
  void decodesAChunkedBodyWithExtensionsAndTrailerThenReusesTheConnection() throws Exception {
    TestServer server =
        serve(
            (request, in, out) ->
                write(
                    out,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n"
                        + "5;name=value\r\n worl\r\n"
                        + "1\r\nd\r\n"
                        + "0\r\nX-Checksum: abc\r\n\r\n"));
    Http1Client client = client(server.url());

    assertThat(text(client.send("GET", "/a", Map.of(), null))).isEqualTo("hello world");
    assertThat(text(client.send("GET", "/b", Map.of(), null))).isEqualTo("hello world");

    assertThat(server.connections.get()).isEqualTo(1);
    assertThat(server.requests).hasSize(2);
  }

  @Test
  void readsABodyWithoutLengthUntilTheServerClosesAndDoesNotReuseThatConnection() throws Exception {
    TestServer server =
        serve(
            (request, in, out) -> {
              write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
              return false;
            });
    Http1Client client = client(server.url());

    assertThat(text(client.send("GET", "/a", Map.of(), null))).isEqualTo("all of it");
    assertThat(text(client.send("GET", "/b", Map.of(), null))).isEqualTo("all of it");

    assertThat(server.connections.get()).isEqualTo(2);
  }

  @Test
  void keepAliveServesSequentialRequestsOnOneConnection() throws Exception {
    TestServer server = serve((request, in, out) -> write(out, OK));
    Http1Client client = client(server.url());

    for (int i = 0; i < 3; i++) {
      assertThat(text(client.send("POST", "/x", Map.of(), new byte[0]))).isEqualTo("ok");
    }

    assertThat(server.connections.get()).isEqualTo(1);
    assertThat(server.requests).hasSize(3);
  }

  @Test
  void connectionCloseResponseIsNotReused() throws Exception {
    // The server keeps its end open: only the client's respect for the header forces a new one.
    TestServer server =
        serve(
            (request, in, out) ->
                write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"));
    Http1Client client = client(server.url());

    text(client.send("GET", "/a", Map.of(), null));
    text(client.send("GET", "/b", Map.of(), null));

    assertThat(server.connections.get()).isEqualTo(2);
    assertThat(eventually(() -> server.hangups.get() == 2, PATIENT)).isTrue();
  }

  @Test
  void pooledConnectionTheServerClosedIsRetriedOnceOnAFreshOne() throws Exception {
    TestServer server =
        serve(
            (request, in, out) -> {
              write(out, OK);
              return false; // an idle timeout on the server's side, right after answering
            });
    Http1Client client = client(server.url());
    text(client.send("POST", "/first", Map.of(), new byte[] {1}));
    assertThat(eventually(() -> server.closedByServer.get() == 1, PATIENT)).isTrue();

    Http1Response second = client.send("POST", "/second", Map.of(), new byte[] {2});

    assertThat(text(second)).isEqualTo("ok");
    assertThat(server.connections.get()).isEqualTo(2);
    assertThat(server.requests).extracting(TestServer.Request::line).hasSize(2);
  }

  @Test
  void pooledConnectionIsNotRetriedOnceAResponseByteArrived() throws Exception {
    AtomicInteger served = new AtomicInteger();
    TestServer server =
        serve(
            (request, in, out) -> {
              if (served.incrementAndGet() == 1) {
                return write(out, OK);
              }
              write(out, "HTTP/1.1 50");
              return false;
            });
    Http1Client client = client(server.url());
    text(client.send("POST", "/first", Map.of(), new byte[0]));

    var e =
        catchThrowableOfType(
            EOFException.class, () -> client.send("POST", "/second", Map.of(), new byte[0]));

    assertThat(e).hasMessage("connection closed in the middle of a line");
    assertThat(server.requests).hasSize(2);
    assertThat(server.connections.get()).isEqualTo(1);
  }

  @Test
  void freshConnectionClosedWithoutAnAnswerFailsWithoutARetry() throws Exception {
    TestServer server = serve((request, in, out) -> false);
    ProviderHttp http = providerHttp(server.url() + "/v1", PATIENT);

    var e =
        catchThrowableOfType(
            ProviderException.ConnectionFailed.class,
            () -> http.postJson("/chat/completions", Map.of(), json("{}")));

    assertThat(e)
        .hasMessage(
            "local connection to 127.0.0.1:%d failed for POST /v1/chat/completions:"
                    .formatted(server.port())
                + " EOFException: connection closed before the response status line");
    assertThat(server.requests).hasSize(1);
  }

  @Test
  void refusedConnectionNamesTheHost() throws Exception {
    ProviderHttp http = providerHttp(ClientTestSupport.refusingUrl(), PATIENT);

    var e =
        catchThrowableOfType(
            ProviderException.ConnectionFailed.class, () -> http.getJson("/api/tags", Map.of()));

    assertThat(e)
        .hasMessageMatching(
            "local connection to 127\\.0\\.0\\.1:\\d+ failed for GET /api/tags: ConnectException");
  }

  @Test
  void responseHeadersLaterThanTheTimeoutTimeOut() throws Exception {
    TestServer server =
        serve(
            (request, in, out) -> {
              sleep(Duration.ofSeconds(1));
              return write(out, OK);
            });
    ProviderHttp http = providerHttp(server.url(), SHORT_TIMEOUT);

    var e =
        catchThrowableOfType(
            ProviderException.TimedOut.class,
            () -> http.postJson("/api/chat", Map.of(), json("{}")));

    assertThat(e).hasMessage("local did not answer POST /api/chat within 300ms");
  }

  @Test
  void bodyThatStallsMidwayTimesOut() throws Exception {
    TestServer server =
        serve(
            (request, in, out) -> {
              write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n");
              sleep(Duration.ofSeconds(1));
              return false;
            });
    ProviderHttp http = providerHttp(server.url(), SHORT_TIMEOUT);

    var e =
        catchThrowableOfType(
            ProviderException.TimedOut.class,
            () -> http.postJson("/api/chat", Map.of(), json("{}")));

    assertThat(e).hasMessage("local stalled: no data for 300ms while reading POST /api/chat");
  }

  @Test
  void closingTheBodyEarlyDropsTheConnection() throws Exception {
    TestServer server =
        serve(
            (request, in, out) -> {
              write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
              // An answer still being generated: a chunk every 20 ms until the client hangs up.
              for (int i = 0; i < 500; i++) {
                write(out, "40\r\n" + "x".repeat(64) + "\r\n");
                sleep(Duration.ofMillis(20));
              }
              return false;
            });
    Http1Client client = client(server.url());
    Http1Response response = client.send("POST", "/stream", Map.of(), new byte[0]);
    InputStream body = response.body();
    assertThat(body.readNBytes(64)).hasSize(64);

    body.close();

    assertThat(eventually(() -> server.hangups.get() == 1, PATIENT)).isTrue();
    assertThat(server.requests).hasSize(1);
  }

  @Test
  void closingAtTheFinalEventKeepsTheConnectionWhenOnlyTheTerminatorIsLeft() throws Exception {
    TestServer server =
        serve(
            (request, in, out) ->
                write(
                    out,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"));
    Http1Client client = client(server.url());

    for (int i = 0; i < 2; i++) {
      Http1Response response = client.send("POST", "/stream", Map.of(), new byte[0]);
      try (InputStream body = response.body()) {
        assertThat(new String(body.readNBytes(14), UTF_8)).isEqualTo("data: [DONE]\n\n");
      }
    }

    assertThat(server.connections.get()).isEqualTo(1);
  }

  @Test
  void manyVirtualThreadsShareABoundedPool() throws Exception {
    TestServer server = serve((request, in, out) -> write(out, OK));
    Http1Client client = client(server.url());
    AtomicInteger answered = new AtomicInteger();

    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> callers = new ArrayList<>();
      for (int t = 0; t < 64; t++) {
        callers.add(
            threads.submit(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    Http1Response response = client.send("POST", "/x", Map.of(), new byte[8]);
                    if (response.status() == 200 && text(response).equals("ok")) {
                      answered.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> caller : callers) {
        caller.get(60, TimeUnit.SECONDS);
      }
    }

    assertThat(answered.get()).isEqualTo(64 * 50);
    assertThat(server.requests).hasSize(64 * 50);
    assertThat(server.connections.get()).isBetween(1, 64 + 4);
  }

  @Test
  void httpsVerifiesTheCertificateNamesTheHost(@TempDir Path dir) throws Exception {
    KeyStore keys = selfSignedKeyStore(dir, "localhost");
    TestServer server = serve(tlsServerSocket(keys), (request, in, out) -> write(out, OK));
    SSLSocketFactory trusting = trustingFactory(keys);

    Http1Client byName = client("https://localhost:" + server.port(), trusting);
    assertThat(text(byName.send("GET", "/a", Map.of(), null))).isEqualTo("ok");
    assertThat(text(byName.send("GET", "/b", Map.of(), null))).isEqualTo("ok");
    assertThat(server.requests.get(0).headers())
        .containsEntry("host", "localhost:" + server.port());
    assertThat(server.connections.get()).isEqualTo(1);

    Http1Client byAddress = client("https://127.0.0.1:" + server.port(), trusting);
    var wrongName =
        catchThrowableOfType(
            Http1Client.ConnectFailure.class, () -> byAddress.send("GET", "/c", Map.of(), null));
    assertThat(wrongName.getCause())
        .isInstanceOf(SSLHandshakeException.class)
        .hasMessageContaining("No subject alternative names matching IP address 127.0.0.1");
  }

  @Test
  void httpsRejectsACertificateNoCaSigned(@TempDir Path dir) throws Exception {
    KeyStore keys = selfSignedKeyStore(dir, "localhost");
    TestServer server = serve(tlsServerSocket(keys), (request, in, out) -> write(out, OK));
    ProviderHttp http =
        providerHttp("https://localhost:" + server.port(), PATIENT); // the JDK's own CAs

    var e =
        catchThrowableOfType(
            ProviderException.ConnectionFailed.class, () -> http.getJson("/a", Map.of()));

    assertThat(e)
        .hasMessageStartingWith(
            "local connection to localhost:"
                + server.port()
                + " failed for GET /a: SSLHandshakeException: (certificate_unknown) PKIX path"
                + " building failed");
    assertThat(server.requests).isEmpty();
  }

  private Http1Client client(String url) {
    return client(url, DEFAULT_TLS);
  }

  private Http1Client client(String url, SSLSocketFactory tls) {
    Http1Client client = new Http1Client(URI.create(url), PATIENT, PATIENT, tls);
    resources.add(client);
    return client;
  }

  private ProviderHttp providerHttp(String baseUrl, Duration timeout) {
    ProviderHttp http =
        new ProviderHttp(
            ClientTestSupport.config("local", ProviderType.OLLAMA, baseUrl, null, timeout), MAPPER);
    resources.add(http);
    return http;
  }

  private TestServer serve(TestServer.Responder responder) throws IOException {
    return serve(new ServerSocket(0, 256, InetAddress.getLoopbackAddress()), responder);
  }

  private TestServer serve(ServerSocket listener, TestServer.Responder responder) {
    TestServer server = new TestServer(listener, responder);
    resources.add(server);
    return server;
  }

  private static String text(Http1Response response) throws IOException {
    try (InputStream body = response.body()) {
      return new String(body.readAllBytes(), UTF_8);
    }
  }

  private static boolean write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(ISO_8859_1));
    out.flush();
    return true;
  }

  private static void sleep(Duration duration) throws IOException {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("server stopped", e);
    }
  }

  /** A PKCS12 store with one self-signed EC key for {@code host}, made by the JDK's keytool. */
  private static KeyStore selfSignedKeyStore(Path dir, String host) throws Exception {
    Path file = dir.resolve("server.p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process process =
        new ProcessBuilder(
                keytool.toString(),
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "EC",
                "-dname",
                "CN=" + host,
                "-ext",
                "SAN=dns:" + host,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                file.toString(),
                "-storepass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes(), UTF_8);
    assertThat(process.waitFor()).as(output).isZero();
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      keys.load(in, "changeit".toCharArray());
    }
    return keys;
  }

  private static ServerSocket tlsServerSocket(KeyStore keys) throws Exception {
    KeyManagerFactory keyManagers =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, "changeit".toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), null, null);
    return context
        .getServerSocketFactory()
        .createServerSocket(0, 64, InetAddress.getLoopbackAddress());
  }

  private static SSLSocketFactory trustingFactory(KeyStore keys) throws Exception {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("server", keys.getCertificate("server"));
    TrustManagerFactory trustManagers =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trustManagers.getTrustManagers(), null);
    return context.getSocketFactory();
  }

  /**
   * A one-origin HTTP/1.1 server on a socket of its own: each connection on a virtual thread, each
   * request parsed and answered by a {@link Responder}; it counts connections, requests and the
   * connections the client hung up.
   */
  private static final class TestServer implements AutoCloseable {
    record Request(int connection, String line, Map<String, String> headers, String body) {}

    interface Responder {
      /** Writes the answer; false closes the connection afterwards. */
      boolean respond(Request request, InputStream in, OutputStream out) throws IOException;
    }

    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger hangups = new AtomicInteger();
    final AtomicInteger closedByServer = new AtomicInteger();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final ServerSocket listener;
    private final Responder responder;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    TestServer(ServerSocket listener, Responder responder) {
      this.listener = listener;
      this.responder = responder;
      threads.submit(this::accept);
    }

    String url() {
      return "http://127.0.0.1:" + port();
    }

    int port() {
      return listener.getLocalPort();
    }

    private Void accept() {
      while (!listener.isClosed()) {
        try {
          Socket socket = listener.accept();
          open.add(socket);
          threads.submit(() -> serve(socket, connections.incrementAndGet()));
        } catch (IOException closed) {
          return null;
        }
      }
      return null;
    }

    private Void serve(Socket socket, int connection) {
      try (socket) {
        InputStream in = new BufferedInputStream(socket.getInputStream());
        OutputStream out = socket.getOutputStream();
        while (true) {
          Request request = readRequest(connection, in);
          if (request == null) {
            hangups.incrementAndGet();
            return null;
          }
          requests.add(request);
          if (!responder.respond(request, in, out)) {
            closedByServer.incrementAndGet();
            return null;
          }
        }
      } catch (IOException reset) {
        hangups.incrementAndGet();
        return null;
      } finally {
        open.remove(socket);
      }
    }

    private static Request readRequest(int connection, InputStream in) throws IOException {
      String line = readLine(in);
      if (line == null) {
        return null;
      }
      Map<String, String> headers = new HashMap<>();
      for (String header = readLine(in); header != null && !header.isEmpty(); ) {
        int colon = header.indexOf(':');
        headers.put(
            header.substring(0, colon).toLowerCase(Locale.ROOT),
            header.substring(colon + 1).strip());
        header = readLine(in);
      }
      int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
      String body = new String(in.readNBytes(length), UTF_8);
      return new Request(connection, line, headers, body);
    }

    private static String readLine(InputStream in) throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      for (int b = in.read(); b != '\n'; b = in.read()) {
        if (b < 0) {
          return null;
        }
        line.write(b);
      }
      return line.toString(ISO_8859_1).stripTrailing();
    }

    @Override
    public void close() throws IOException {
      listener.close();
      for (Socket socket : open) {
        socket.close();
      }
      threads.shutdownNow();
    }
  }
}
