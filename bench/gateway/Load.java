import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * Closed-loop load generator for the gateway benchmark: CONCURRENCY workers, each a platform
 * thread with its own persistent HTTP/1.1 keep-alive connection (like wrk), POST the body file
 * back to back for SECONDS after a warm-up. Loopback http:// only.
 *
 * <p>The HTTP client is a minimal raw-socket one (request bytes built once, one write per
 * request; status line, headers, Content-Length / chunked / close-delimited bodies parsed from a
 * private buffer without allocating): the JDK HttpClient cost 0.7–1.2 ms of CPU per call on a
 * saturated 2-core machine, CPU the measured processes then did not get. A connection is reopened
 * when the server closes it or answers {@code Connection: close} ({@code reconnects} counts them;
 * connections survive from the warm-up into the measured window).
 *
 * <pre>
 * java bench/gateway/Load.java URL TOKEN|- BODY_FILE CONCURRENCY SECONDS [--stream]
 *      [--warmup S] [--label TEXT] [--kernel-pid PID] [--pg-pid PID] [--upstream-pid PID]
 *      [--clk-tck HZ]
 * </pre>
 *
 * <p>Prints one line of key=value pairs: count, errors, rps, p50/p90/p99/max latency (ms, to the
 * last byte), and with --stream ttft_p50/ttft_p99 (ms to the first chunk carrying content: the
 * first SSE {@code data:} line whose JSON has a non-empty {@code "content"} string). With
 * --kernel-pid / --pg-pid / --upstream-pid it also reports the CPU time (utime+stime from /proc)
 * those processes (PostgreSQL: the postmaster and all its backends) used during the measured
 * window, per request, plus this generator's own CPU per request, the machine's busy share and
 * the share used by anything else (other_cpu_pct: a round disturbed by unrelated work shows it),
 * and last the number of reconnects in the measured window. A non-200 status, a stream without
 * content or without {@code data: [DONE]}, or an I/O error counts as an error ({@code io_errors}
 * counts the I/O ones); each kind is printed to stderr with its count and first message, and the
 * exit status is 1 when there were any.
 */
public class Load {
  private static final Pattern LOOPBACK_V4 = Pattern.compile("127(\\.\\d{1,3}){3}");
  private static final int CONNECT_TIMEOUT_MS = 5_000;
  private static final int READ_TIMEOUT_MS = 30_000;

  record Options(
      URI uri,
      String token,
      byte[] body,
      int concurrency,
      Duration duration,
      boolean stream,
      Duration warmup,
      String label,
      long kernelPid,
      long pgPid,
      long upstreamPid,
      int clkTck) {}

  /** One thread's samples, in a growable primitive array (no boxing in the hot loop). */
  static final class Samples {
    long[] values = new long[1024];
    int size;

    void add(long v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    long[] toArray() {
      return Arrays.copyOf(values, size);
    }
  }

  static final class Window {
    final ConcurrentLinkedQueue<long[]> latencies = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<long[]> firstTokens = new ConcurrentLinkedQueue<>();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong ioErrors = new AtomicLong();
    /** Connections opened by a worker that already had one (the server closed or refused it). */
    final LongAdder reconnects = new LongAdder();
    /** Error kind (status, exception class and message) → count and the first full message. */
    final ConcurrentHashMap<String, LongAdder> kinds = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, String> firstOfKind = new ConcurrentHashMap<>();
  }

  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    byte[] request = request(o);
    InetSocketAddress[] targets = targets(o.uri());
    Worker[] workers = new Worker[o.concurrency()];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker(targets, request, o.stream());
    }

    // Warm-up: JIT on both sides, the connections, database connections.
    run(workers, o.warmup(), new Window());

    Window window = new Window();
    CpuTimes before = CpuTimes.read(o);
    long start = System.nanoTime();
    run(workers, o.duration(), window);
    double seconds = (System.nanoTime() - start) / 1e9;
    CpuTimes after = CpuTimes.read(o);
    for (Worker worker : workers) {
      worker.close();
    }

    long[] all = window.latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    long[] ttft = window.firstTokens.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    long count = all.length;
    StringBuilder line = new StringBuilder();
    kv(line, "label", o.label());
    kv(line, "c", o.concurrency());
    kv(line, "seconds", fmt(seconds));
    kv(line, "count", count);
    kv(line, "errors", window.errors.get());
    kv(line, "io_errors", window.ioErrors.get());
    kv(line, "rps", fmt(count / seconds));
    kv(line, "p50", ms(pct(all, 50)));
    kv(line, "p90", ms(pct(all, 90)));
    kv(line, "p99", ms(pct(all, 99)));
    kv(line, "max", ms(all.length == 0 ? 0 : all[all.length - 1]));
    if (o.stream()) {
      kv(line, "ttft_p50", ms(pct(ttft, 50)));
      kv(line, "ttft_p99", ms(pct(ttft, 99)));
    }
    double tick = 1e6 / o.clkTck(); // microseconds per clock tick
    if (o.kernelPid() > 0) {
      long ticks = after.kernel - before.kernel;
      kv(line, "kernel_cpu_ms", fmt(ticks * tick / 1000));
      kv(line, "kernel_cpu_us_per_req", fmt(count == 0 ? 0 : ticks * tick / count));
    }
    if (o.pgPid() > 0) {
      long ticks = after.postgres - before.postgres;
      kv(line, "pg_cpu_us_per_req", fmt(count == 0 ? 0 : ticks * tick / count));
    }
    if (o.upstreamPid() > 0) {
      long ticks = after.upstream - before.upstream;
      kv(line, "upstream_cpu_us_per_req", fmt(count == 0 ? 0 : ticks * tick / count));
    }
    kv(line, "loadgen_cpu_us_per_req", fmt(count == 0 ? 0 : (after.self - before.self) * tick / count));
    long total = after.machineTotal - before.machineTotal;
    long busy = after.machineBusy - before.machineBusy;
    long ours = (after.kernel - before.kernel) + (after.postgres - before.postgres)
        + (after.upstream - before.upstream) + (after.self - before.self);
    kv(line, "machine_busy_pct", fmt(total == 0 ? 0 : 100.0 * busy / total));
    // CPU used by anything else on the machine (other work, the OS), as a share of all cores.
    kv(line, "other_cpu_pct", fmt(total == 0 ? 0 : Math.max(0, 100.0 * (busy - ours) / total)));
    kv(line, "reconnects", window.reconnects.sum());
    System.out.println(line.toString().strip());
    if (window.errors.get() > 0) {
      System.err.println(
          "Load: " + window.errors.get() + " failed requests against " + o.uri() + " (" + o.label() + "):");
      window.kinds.forEach(
          (kind, n) -> System.err.println("  " + n.sum() + " × " + window.firstOfKind.get(kind)));
      System.exit(1);
    }
  }

  /**
   * Runs every worker on its own platform thread until the deadline, then waits for them all.
   * Platform threads: measured cheaper per request than virtual ones here (blocking socket reads
   * need no poller hand-off), markedly so at c=1, no worse at c=16–256.
   */
  private static void run(Worker[] workers, Duration duration, Window w) throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    Thread[] threads = new Thread[workers.length];
    for (int i = 0; i < workers.length; i++) {
      Worker worker = workers[i];
      threads[i] =
          Thread.ofPlatform()
              .name("load-" + i)
              .daemon()
              .stackSize(256 * 1024)
              .start(() -> worker.loop(deadline, w));
    }
    for (Thread thread : threads) {
      thread.join();
    }
  }

  /** The request, built once: request line, Host, Content-Type, Content-Length, Authorization, body. */
  private static byte[] request(Options o) {
    URI uri = o.uri();
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      path += "?" + uri.getRawQuery();
    }
    StringBuilder head = new StringBuilder();
    head.append("POST ").append(path).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(uri.getRawAuthority()).append("\r\n");
    head.append("Content-Type: application/json\r\n");
    head.append("Content-Length: ").append(o.body().length).append("\r\n");
    if (!"-".equals(o.token())) {
      head.append("Authorization: Bearer ").append(o.token()).append("\r\n");
    }
    head.append("\r\n");
    byte[] h = head.toString().getBytes(StandardCharsets.UTF_8);
    byte[] request = Arrays.copyOf(h, h.length + o.body().length);
    System.arraycopy(o.body(), 0, request, h.length, o.body().length);
    return request;
  }

  /** Literal loopback addresses only (localhost: 127.0.0.1, then ::1); no name resolution. */
  private static InetSocketAddress[] targets(URI uri) throws IOException {
    int port = uri.getPort() == -1 ? 80 : uri.getPort();
    String host = uri.getHost();
    List<String> literals =
        host.equals("localhost") ? List.of("127.0.0.1", "::1")
            : host.startsWith("[") ? List.of(host.substring(1, host.length() - 1))
            : List.of(host);
    InetSocketAddress[] targets = new InetSocketAddress[literals.size()];
    for (int i = 0; i < targets.length; i++) {
      targets[i] = new InetSocketAddress(InetAddress.getByName(literals.get(i)), port); // literal: no lookup
    }
    return targets;
  }

  /**
   * One closed-loop worker and its keep-alive connection. The hot path allocates nothing: the
   * response is read into {@link #buf}, header lines are matched in {@link #line}, SSE lines are
   * assembled in {@link #sse} across chunk boundaries.
   */
  static final class Worker {
    private static final int SKIP = 0;
    private static final int SSE = 1;
    private static final int COLLECT = 2;
    private static final byte[] DATA = ascii("data:");
    private static final byte[] CONTENT = ascii("\"content\"");
    private static final byte[] DONE = ascii("[DONE]");
    private static final byte[] CONTENT_LENGTH = ascii("content-length:");
    private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding:");
    private static final byte[] CONNECTION = ascii("connection:");
    private static final byte[] CHUNKED = ascii("chunked");
    private static final byte[] CLOSE = ascii("close");
    private static final byte[] KEEP_ALIVE = ascii("keep-alive");

    private final InetSocketAddress[] targets;
    private final byte[] request;
    private final boolean stream;

    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private boolean connectedBefore;

    private final byte[] buf = new byte[32 * 1024];
    private int pos;
    private int lim;
    private byte[] line = new byte[1024];
    private byte[] sse = new byte[4096];
    private int sseLen;
    private final byte[] errBody = new byte[2048];
    private int errLen;

    // The response being read.
    private int status;
    private boolean close;
    private long bodyBytes;
    private int mode;
    private long firstToken;
    private boolean done;

    Worker(InetSocketAddress[] targets, byte[] request, boolean stream) {
      this.targets = targets;
      this.request = request;
      this.stream = stream;
    }

    void loop(long deadline, Window w) {
      Samples latencies = new Samples();
      Samples firstTokens = new Samples();
      while (System.nanoTime() < deadline) {
        long t0 = System.nanoTime();
        try {
          if (socket == null) {
            connect(w);
          }
          out.write(request);
          out.flush();
          readResponse();
          long t1 = System.nanoTime();
          if (close) {
            close();
          }
          if (status != 200) {
            error(w, "HTTP " + status, text(errBody, errLen));
          } else if (stream) {
            if (firstToken == 0 || !done) {
              error(w, "stream without " + (firstToken == 0 ? "content" : "data: [DONE]"), "");
            } else {
              latencies.add(t1 - t0);
              firstTokens.add(firstToken - t0);
            }
          } else if (bodyBytes == 0) {
            error(w, "HTTP 200 with an empty body", "");
          } else {
            latencies.add(t1 - t0);
          }
        } catch (IOException e) {
          boolean connecting = socket == null;
          close();
          w.ioErrors.incrementAndGet();
          error(w, e.getClass().getName() + ": " + e.getMessage(), "");
          if (connecting) {
            pause(); // nothing listening: do not spin at full speed until the deadline
          }
        }
      }
      w.latencies.add(latencies.toArray());
      w.firstTokens.add(firstTokens.toArray());
    }

    private void connect(Window w) throws IOException {
      IOException failure = null;
      for (InetSocketAddress target : targets) {
        Socket s = new Socket();
        try {
          s.setTcpNoDelay(true);
          s.setSoTimeout(READ_TIMEOUT_MS);
          s.connect(target, CONNECT_TIMEOUT_MS);
          socket = s;
          in = s.getInputStream();
          out = s.getOutputStream(); // the request goes out in one write: no buffering needed
          pos = lim = 0;
          if (connectedBefore) {
            w.reconnects.increment();
          }
          connectedBefore = true;
          return;
        } catch (IOException e) {
          s.close();
          String where = target.getAddress().getHostAddress() + ":" + target.getPort();
          IOException wrapped =
              e instanceof ConnectException
                  ? new ConnectException("cannot connect to " + where + ": " + e.getMessage())
                  : new IOException("cannot connect to " + where + ": " + e, e);
          if (failure == null) {
            failure = wrapped;
          }
        }
      }
      throw failure;
    }

    void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }
      socket = null;
      in = null;
      out = null;
      pos = lim = 0;
    }

    private static void pause() {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    // ---------------------------------------------------------------- response

    private void readResponse() throws IOException {
      bodyBytes = 0;
      errLen = 0;
      sseLen = 0;
      firstToken = 0;
      done = false;
      long contentLength;
      boolean chunked;
      do { // skipping any 1xx interim response
        int n = readLine(true);
        if (n < 12 || !startsWith(line, 0, n, "HTTP/1.")) {
          throw new IOException("malformed status line: " + text(line, n));
        }
        status = digit(line[9]) * 100 + digit(line[10]) * 10 + digit(line[11]);
        if (status < 100 || status > 999 || (n > 12 && line[12] != ' ')) {
          throw new IOException("malformed status line: " + text(line, n));
        }
        boolean http10 = line[7] == '0';
        close = http10;
        contentLength = -1;
        chunked = false;
        while ((n = readLine(false)) > 0) {
          if (startsWithIgnoreCase(line, n, CONTENT_LENGTH)) {
            contentLength = parseLong(line, CONTENT_LENGTH.length, n);
          } else if (startsWithIgnoreCase(line, n, TRANSFER_ENCODING)) {
            chunked = containsIgnoreCase(line, TRANSFER_ENCODING.length, n, CHUNKED);
          } else if (startsWithIgnoreCase(line, n, CONNECTION)) {
            if (containsIgnoreCase(line, CONNECTION.length, n, CLOSE)) {
              close = true;
            } else if (http10 && containsIgnoreCase(line, CONNECTION.length, n, KEEP_ALIVE)) {
              close = false;
            }
          }
        }
      } while (status < 200 && status != 101);

      mode = status == 200 ? (stream ? SSE : SKIP) : COLLECT;
      if (status < 200 || status == 204 || status == 304) {
        return; // no body
      }
      if (chunked) {
        while (true) {
          int n = readLine(false);
          long size = parseChunkSize(n);
          if (size == 0) {
            while (readLine(false) > 0) {
              // trailers
            }
            break;
          }
          readFixed(size);
          if (readLine(false) != 0) {
            throw new IOException("malformed chunked body: no CRLF after a chunk");
          }
        }
      } else if (contentLength >= 0) {
        readFixed(contentLength);
      } else { // delimited by the server closing the connection
        close = true;
        do {
          consume(buf, pos, lim - pos);
          pos = lim;
        } while (fill() > 0);
      }
      if (mode == SSE && sseLen > 0) { // a last line without its newline
        sseLine(sse, 0, sseLen);
        sseLen = 0;
      }
    }

    /** Reads bytes into the buffer (only when it is drained); the count, or -1 at the end. */
    private int fill() throws IOException {
      int n = in.read(buf, 0, buf.length);
      pos = 0;
      lim = Math.max(n, 0);
      return n;
    }

    /** The next line (without CR LF) into {@link #line}; its length. */
    private int readLine(boolean statusLine) throws IOException {
      int n = 0;
      while (true) {
        if (pos == lim && fill() < 0) {
          throw new EOFException(
              statusLine && n == 0
                  ? "connection closed by the server before the response"
                  : "connection closed by the server within the response head or chunk framing");
        }
        int end = pos;
        while (end < lim && buf[end] != '\n') {
          end++;
        }
        int len = end - pos;
        if (n + len > line.length) {
          if (n + len > 64 * 1024) {
            throw new IOException("response line longer than 64 KiB");
          }
          line = Arrays.copyOf(line, Math.max(line.length * 2, n + len));
        }
        System.arraycopy(buf, pos, line, n, len);
        n += len;
        if (end < lim) {
          pos = end + 1;
          return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
        }
        pos = lim;
      }
    }

    private void readFixed(long remaining) throws IOException {
      while (remaining > 0) {
        if (pos == lim && fill() < 0) {
          throw new EOFException("connection closed by the server within the response body");
        }
        int k = (int) Math.min(remaining, lim - pos);
        consume(buf, pos, k);
        pos += k;
        remaining -= k;
      }
    }

    private void consume(byte[] b, int off, int len) {
      bodyBytes += len;
      if (mode == SSE) {
        sse(b, off, len);
      } else if (mode == COLLECT) {
        int k = Math.min(len, errBody.length - errLen);
        System.arraycopy(b, off, errBody, errLen, k);
        errLen += k;
      }
    }

    /** Splits body bytes into lines, joining lines cut across reads or chunks. */
    private void sse(byte[] b, int off, int len) {
      int end = off + len;
      while (off < end) {
        int nl = off;
        while (nl < end && b[nl] != '\n') {
          nl++;
        }
        if (nl == end) {
          appendSse(b, off, end - off);
          return;
        }
        if (sseLen == 0) {
          sseLine(b, off, nl);
        } else {
          appendSse(b, off, nl - off);
          sseLine(sse, 0, sseLen);
          sseLen = 0;
        }
        off = nl + 1;
      }
    }

    private void appendSse(byte[] b, int off, int len) {
      if (sseLen + len > sse.length) {
        sse = Arrays.copyOf(sse, Math.max(sse.length * 2, sseLen + len));
      }
      System.arraycopy(b, off, sse, sseLen, len);
      sseLen += len;
    }

    /** One SSE line, b[from, to) without its newline. */
    private void sseLine(byte[] b, int from, int to) {
      if (to > from && b[to - 1] == '\r') {
        to--;
      }
      if (to - from < DATA.length || !regionEquals(b, from, DATA)) {
        return;
      }
      from += DATA.length;
      if (firstToken == 0 && hasContent(b, from, to)) {
        firstToken = System.nanoTime();
      }
      while (from < to && isWhitespace(b[from])) {
        from++;
      }
      while (to > from && isWhitespace(b[to - 1])) {
        to--;
      }
      if (to - from == DONE.length && regionEquals(b, from, DONE)) {
        done = true;
      }
    }

    /** Whether b[from, to) matches {@code "content"\s*:\s*"[^"]} somewhere. */
    private static boolean hasContent(byte[] b, int from, int to) {
      for (int i = from; i + CONTENT.length <= to; i++) {
        if (b[i] != '"' || !regionEquals(b, i, CONTENT)) {
          continue;
        }
        int j = i + CONTENT.length;
        while (j < to && isRegexSpace(b[j])) {
          j++;
        }
        if (j >= to || b[j] != ':') {
          continue;
        }
        j++;
        while (j < to && isRegexSpace(b[j])) {
          j++;
        }
        if (j + 1 < to && b[j] == '"' && b[j + 1] != '"') {
          return true;
        }
      }
      return false;
    }

    private long parseChunkSize(int n) throws IOException {
      long size = 0;
      int i = 0;
      while (i < n && (line[i] == ' ' || line[i] == '\t')) {
        i++;
      }
      int digits = 0;
      for (; i < n; i++, digits++) {
        int d = Character.digit(line[i], 16);
        if (d < 0) {
          break;
        }
        if (digits >= 15) {
          throw new IOException("chunk size too large: " + text(line, n));
        }
        size = size * 16 + d;
      }
      if (digits == 0 || (i < n && line[i] != ';' && line[i] != ' ' && line[i] != '\t')) {
        throw new IOException("malformed chunk size: " + text(line, n));
      }
      return size;
    }

    private static long parseLong(byte[] b, int from, int to) throws IOException {
      while (from < to && (b[from] == ' ' || b[from] == '\t')) {
        from++;
      }
      while (to > from && (b[to - 1] == ' ' || b[to - 1] == '\t')) {
        to--;
      }
      if (from == to || to - from > 18) {
        throw new IOException("malformed Content-Length: " + text(b, to));
      }
      long v = 0;
      for (int i = from; i < to; i++) {
        int d = b[i] - '0';
        if (d < 0 || d > 9) {
          throw new IOException("malformed Content-Length: " + text(b, to));
        }
        v = v * 10 + d;
      }
      return v;
    }

    private static int digit(byte b) {
      return b >= '0' && b <= '9' ? b - '0' : -1000;
    }

    private static boolean startsWith(byte[] b, int from, int to, String prefix) {
      if (to - from < prefix.length()) {
        return false;
      }
      for (int i = 0; i < prefix.length(); i++) {
        if (b[from + i] != prefix.charAt(i)) {
          return false;
        }
      }
      return true;
    }

    private static boolean regionEquals(byte[] b, int from, byte[] what) {
      for (int i = 0; i < what.length; i++) {
        if (b[from + i] != what[i]) {
          return false;
        }
      }
      return true;
    }

    /** {@code lowerPrefix} is lower case ASCII. */
    private static boolean startsWithIgnoreCase(byte[] b, int n, byte[] lowerPrefix) {
      if (n < lowerPrefix.length) {
        return false;
      }
      for (int i = 0; i < lowerPrefix.length; i++) {
        if (lower(b[i]) != lowerPrefix[i]) {
          return false;
        }
      }
      return true;
    }

    /** {@code lowerWord} is lower case ASCII. */
    private static boolean containsIgnoreCase(byte[] b, int from, int to, byte[] lowerWord) {
      outer:
      for (int i = from; i + lowerWord.length <= to; i++) {
        for (int j = 0; j < lowerWord.length; j++) {
          if (lower(b[i + j]) != lowerWord[j]) {
            continue outer;
          }
        }
        return true;
      }
      return false;
    }

    private static byte lower(byte b) {
      return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }

    /** {@code \s} of java.util.regex: [ \t\n\x0B\f\r]. */
    private static boolean isRegexSpace(byte b) {
      return b == ' ' || (b >= '\t' && b <= '\r');
    }

    /** The ASCII whitespace {@link String#strip()} removes. */
    private static boolean isWhitespace(byte b) {
      return b == ' ' || (b >= '\t' && b <= '\r') || (b >= 0x1C && b <= 0x1F);
    }

    private static byte[] ascii(String s) {
      return s.getBytes(StandardCharsets.US_ASCII);
    }
  }

  private static void error(Window w, String kind, String detail) {
    w.errors.incrementAndGet();
    w.kinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
    w.firstOfKind.putIfAbsent(kind, detail.isEmpty() ? kind : kind + ": " + detail);
  }

  private static String text(byte[] body, int length) {
    String s = new String(body, 0, length, StandardCharsets.UTF_8).replace('\n', ' ').replace('\r', ' ');
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  /** Clock ticks of utime+stime, read at the edges of the measured window. */
  record CpuTimes(
      long kernel, long postgres, long upstream, long self, long machineBusy, long machineTotal) {
    static CpuTimes read(Options o) throws IOException {
      long kernel = o.kernelPid() > 0 ? ticks(o.kernelPid(), false) : 0;
      long postgres = 0;
      if (o.pgPid() > 0) {
        // The postmaster (with its reaped children's time) plus every live backend.
        postgres = ticks(o.pgPid(), true);
        for (ProcessHandle child : ProcessHandle.of(o.pgPid()).map(p -> p.descendants().toList()).orElse(List.of())) {
          postgres += ticks(child.pid(), false);
        }
      }
      long upstream = o.upstreamPid() > 0 ? ticks(o.upstreamPid(), false) : 0;
      long self = ticks(ProcessHandle.current().pid(), false);
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < Math.min(cpu.length, 9); i++) { // user..steal
        total += Long.parseLong(cpu[i]);
      }
      long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
      return new CpuTimes(kernel, postgres, upstream, self, total - idle, total);
    }

    private static long ticks(long pid, boolean withReapedChildren) {
      try {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
        long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        if (withReapedChildren) {
          t += Long.parseLong(f[13]) + Long.parseLong(f[14]);
        }
        return t;
      } catch (IOException | RuntimeException e) {
        return 0; // the process went away between listing and reading
      }
    }
  }

  private static Options parse(String[] args) throws IOException {
    List<String> positional = new ArrayList<>();
    boolean stream = false;
    Duration warmup = Duration.ofSeconds(2);
    String label = "-";
    long kernelPid = 0;
    long pgPid = 0;
    long upstreamPid = 0;
    int clkTck = 100;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--stream" -> stream = true;
        case "--warmup" -> warmup = Duration.ofMillis((long) (Double.parseDouble(args[++i]) * 1000));
        case "--label" -> label = args[++i];
        case "--kernel-pid" -> kernelPid = Long.parseLong(args[++i]);
        case "--pg-pid" -> pgPid = Long.parseLong(args[++i]);
        case "--upstream-pid" -> upstreamPid = Long.parseLong(args[++i]);
        case "--clk-tck" -> clkTck = Integer.parseInt(args[++i]);
        default -> positional.add(args[i]);
      }
    }
    if (positional.size() != 5) {
      System.err.println(
          "usage: java Load.java URL TOKEN|- BODY_FILE CONCURRENCY SECONDS [--stream] [--warmup S]"
              + " [--label TEXT] [--kernel-pid PID] [--pg-pid PID] [--upstream-pid PID] [--clk-tck HZ]");
      System.exit(2);
    }
    URI uri = URI.create(positional.get(0));
    if ("https".equalsIgnoreCase(uri.getScheme())) {
      System.err.println("Load: https is not supported (a raw-socket loopback http:// client): " + uri);
      System.exit(2);
    }
    // Literal loopback names only: no name resolution, so nothing can leave the machine.
    String host = uri.getHost();
    if (host == null
        || !"http".equals(uri.getScheme())
        || !(host.equals("localhost") || host.equals("[::1]") || LOOPBACK_V4.matcher(host).matches())) {
      System.err.println("Load: loopback http:// targets only, not " + uri);
      System.exit(2);
    }
    int concurrency = Integer.parseInt(positional.get(3));
    if (concurrency < 1 || concurrency > 4096) {
      System.err.println("Load: CONCURRENCY must be in [1, 4096]");
      System.exit(2);
    }
    double seconds = Double.parseDouble(positional.get(4));
    if (!(seconds > 0 && seconds <= 600)) {
      System.err.println("Load: SECONDS must be in (0, 600]");
      System.exit(2);
    }
    return new Options(
        uri,
        positional.get(1),
        Files.readAllBytes(Path.of(positional.get(2))),
        concurrency,
        Duration.ofMillis((long) (seconds * 1000)),
        stream,
        warmup,
        label,
        kernelPid,
        pgPid,
        upstreamPid,
        clkTck);
  }

  private static long pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static void kv(StringBuilder line, String key, Object value) {
    line.append(key).append('=').append(value).append(' ');
  }
}
