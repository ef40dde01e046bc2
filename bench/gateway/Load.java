import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * Closed-loop load generator for the gateway benchmark: CONCURRENCY virtual threads share one
 * HTTP/1.1 client and POST the body file back to back for SECONDS after a warm-up. Loopback only.
 *
 * <pre>
 * java bench/gateway/Load.java URL TOKEN|- BODY_FILE CONCURRENCY SECONDS [--stream]
 *      [--warmup S] [--label TEXT] [--kernel-pid PID] [--pg-pid PID] [--upstream-pid PID]
 *      [--clk-tck HZ]
 * </pre>
 *
 * <p>Prints one line of key=value pairs: count, errors, rps, p50/p90/p99/max latency (ms, to the
 * last byte), and with --stream ttft_p50/ttft_p99 (ms to the first chunk carrying content). With
 * --kernel-pid / --pg-pid / --upstream-pid it also reports the CPU time (utime+stime from /proc)
 * those processes (PostgreSQL: the postmaster and all its backends) used during the measured
 * window, per request, plus this generator's own CPU per request, the machine's busy share and
 * the share used by anything else (other_cpu_pct: a round disturbed by unrelated work shows it). A non-200
 * status, a stream without content or without {@code data: [DONE]}, or an I/O error counts as an
 * error ({@code io_errors} counts the I/O ones); each kind is printed to stderr with its count and
 * first message, and the exit status is 1 when there were any.
 */
public class Load {
  private static final Pattern CONTENT = Pattern.compile("\"content\"\\s*:\\s*\"[^\"]");
  private static final Pattern LOOPBACK_V4 = Pattern.compile("127(\\.\\d{1,3}){3}");

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
    /** Error kind (status, exception class and message) → count and the first full message. */
    final ConcurrentHashMap<String, LongAdder> kinds = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, String> firstOfKind = new ConcurrentHashMap<>();
  }

  public static void main(String[] args) throws Exception {
    Options o = parse(args);
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(o.uri())
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(o.body()));
    if (!"-".equals(o.token())) {
      builder.header("Authorization", "Bearer " + o.token());
    }
    HttpRequest request = builder.build();

    // Warm-up: JIT on both sides, connection pool, database connections.
    run(client, request, o, o.warmup(), new Window());

    Window window = new Window();
    CpuTimes before = CpuTimes.read(o);
    long start = System.nanoTime();
    run(client, request, o, o.duration(), window);
    double seconds = (System.nanoTime() - start) / 1e9;
    CpuTimes after = CpuTimes.read(o);

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
    System.out.println(line.toString().strip());
    if (window.errors.get() > 0) {
      System.err.println(
          "Load: " + window.errors.get() + " failed requests against " + o.uri() + " (" + o.label() + "):");
      window.kinds.forEach(
          (kind, n) -> System.err.println("  " + n.sum() + " × " + window.firstOfKind.get(kind)));
      System.exit(1);
    }
  }

  private static void run(HttpClient client, HttpRequest request, Options o, Duration duration, Window w)
      throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < o.concurrency(); i++) {
        executor.submit(
            () -> {
              Samples latencies = new Samples();
              Samples firstTokens = new Samples();
              while (System.nanoTime() < deadline) {
                long t0 = System.nanoTime();
                try {
                  if (o.stream()) {
                    streamOnce(client, request, t0, latencies, firstTokens, w);
                  } else {
                    HttpResponse<byte[]> response =
                        client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                    long t1 = System.nanoTime();
                    if (response.statusCode() != 200 || response.body().length == 0) {
                      error(w, "HTTP " + response.statusCode(), text(response.body()));
                    } else {
                      latencies.add(t1 - t0);
                    }
                  }
                } catch (IOException e) {
                  w.ioErrors.incrementAndGet();
                  error(w, e.getClass().getName() + ": " + e.getMessage(), "");
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return null;
                }
              }
              w.latencies.add(latencies.toArray());
              w.firstTokens.add(firstTokens.toArray());
              return null;
            });
      }
    }
  }

  private static void streamOnce(
      HttpClient client, HttpRequest request, long t0, Samples latencies, Samples firstTokens, Window w)
      throws IOException, InterruptedException {
    HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = response.body()) {
      if (response.statusCode() != 200) {
        error(w, "HTTP " + response.statusCode(), text(body.readAllBytes()));
        return;
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
      long firstToken = 0;
      boolean done = false;
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.startsWith("data:")) {
          continue;
        }
        if (firstToken == 0 && CONTENT.matcher(line).find()) {
          firstToken = System.nanoTime();
        }
        if (line.substring(5).strip().equals("[DONE]")) {
          done = true;
        }
      }
      long t1 = System.nanoTime();
      if (firstToken == 0 || !done) {
        error(w, "stream without " + (firstToken == 0 ? "content" : "data: [DONE]"), "");
        return;
      }
      latencies.add(t1 - t0);
      firstTokens.add(firstToken - t0);
    }
  }

  private static void error(Window w, String kind, String detail) {
    w.errors.incrementAndGet();
    w.kinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
    w.firstOfKind.putIfAbsent(kind, detail.isEmpty() ? kind : kind + ": " + detail);
  }

  private static String text(byte[] body) {
    String s = new String(body, StandardCharsets.UTF_8).replace('\n', ' ');
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
    // Literal loopback names only: no name resolution, so nothing can leave the machine.
    String host = uri.getHost();
    if (host == null
        || !"http".equals(uri.getScheme())
        || !(host.equals("localhost") || host.equals("[::1]") || LOOPBACK_V4.matcher(host).matches())) {
      System.err.println("Load: loopback http:// targets only, not " + uri);
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
        Integer.parseInt(positional.get(3)),
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
