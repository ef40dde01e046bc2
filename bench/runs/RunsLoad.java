import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Submits message events to a kernel: CLIENTS concurrent clients for SECONDS seconds (or until
 * TOTAL events), over CONVERSATIONS conversation keys round-robin. Prints how many were accepted
 * and the submission rate; the run latencies are read from the database afterwards.
 *
 * <p>java bench/runs/RunsLoad.java URL TOKEN CLIENTS SECONDS TOTAL CONVERSATIONS
 */
public class RunsLoad {
  public static void main(String[] args) throws Exception {
    String url = args[0];
    String token = args[1];
    int clients = Integer.parseInt(args[2]);
    long seconds = Long.parseLong(args[3]);
    int total = Integer.parseInt(args[4]);
    int conversations = Integer.parseInt(args[5]);
    URI base = URI.create(url);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    long started = System.nanoTime();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < clients; c++) {
        pool.submit(
            () -> {
              // One keep-alive connection per client, raw HTTP/1.1: the client should cost the
              // machine as little as possible, since it shares the cores with the kernel.
              try (Socket socket = new Socket(base.getHost(), base.getPort())) {
                socket.setTcpNoDelay(true);
                OutputStream out = new BufferedOutputStream(socket.getOutputStream());
                InputStream in = new BufferedInputStream(socket.getInputStream());
                while (System.nanoTime() < deadline) {
                  int n = next.getAndIncrement();
                  if (n >= total) {
                    return null;
                  }
                  byte[] body =
                      ("{\"schema_version\":1,\"type\":\"message\",\"conversation_key\":\"bench-"
                              + (n % conversations)
                              + "\",\"text\":\"event "
                              + n
                              + "\"}")
                          .getBytes(StandardCharsets.UTF_8);
                  out.write(
                      ("POST /v1/events HTTP/1.1\r\nHost: "
                              + base.getAuthority()
                              + "\r\nAuthorization: Bearer "
                              + token
                              + "\r\nContent-Type: application/json\r\nContent-Length: "
                              + body.length
                              + "\r\n\r\n")
                          .getBytes(StandardCharsets.US_ASCII));
                  out.write(body);
                  out.flush();
                  (readStatus(in) == 202 ? accepted : refused).incrementAndGet();
                }
              }
              return null;
            });
      }
    }
    double elapsed = (System.nanoTime() - started) / 1e9;
    System.out.printf(
        "submitted %d events (%d refused) in %.1f s: %.0f/s%n",
        accepted.get(), refused.get(), elapsed, accepted.get() / elapsed);
  }

  /** Reads one response (status line, headers, a Content-Length body) and returns its status. */
  private static int readStatus(InputStream in) throws IOException {
    String statusLine = line(in);
    int status = Integer.parseInt(statusLine.split(" ", 3)[1]);
    int length = 0;
    boolean chunked = false;
    for (String header = line(in); !header.isEmpty(); header = line(in)) {
      if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
        length = Integer.parseInt(header.substring(15).strip());
      } else if (header.regionMatches(true, 0, "transfer-encoding:", 0, 18)) {
        chunked = header.toLowerCase(Locale.ROOT).contains("chunked");
      }
    }
    if (!chunked) {
      in.readNBytes(length);
      return status;
    }
    for (int size = Integer.parseInt(line(in).strip(), 16); size > 0; ) {
      in.readNBytes(size + 2); // the chunk and its CRLF
      size = Integer.parseInt(line(in).strip(), 16);
    }
    line(in); // the empty line after the last chunk
    return status;
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new EOFException("the kernel closed the connection");
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }
}
