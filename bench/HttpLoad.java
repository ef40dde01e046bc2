import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded closed-loop load generator for loopback benchmarks: N virtual threads each send
 * requests back to back for a fixed time; prints throughput and latency percentiles.
 *
 * <p>java bench/HttpLoad.java URL TOKEN|- CONCURRENCY SECONDS
 */
public class HttpLoad {
  public static void main(String[] args) throws Exception {
    URI uri = URI.create(args[0]);
    if (!List.of("127.0.0.1", "localhost", "[::1]").contains(uri.getHost())) {
      throw new IllegalArgumentException("loopback targets only: " + uri);
    }
    String token = args[1];
    int concurrency = Integer.parseInt(args[2]);
    Duration duration = Duration.ofSeconds(Long.parseLong(args[3]));
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET();
    if (!"-".equals(token)) {
      builder.header("Authorization", "Bearer " + token);
    }
    HttpRequest request = builder.build();

    // Warm-up: JIT, connection pool.
    run(client, request, concurrency, Duration.ofSeconds(3), new ConcurrentLinkedQueue<>(), new AtomicLong());

    ConcurrentLinkedQueue<long[]> samples = new ConcurrentLinkedQueue<>();
    AtomicLong errors = new AtomicLong();
    long start = System.nanoTime();
    run(client, request, concurrency, duration, samples, errors);
    double seconds = (System.nanoTime() - start) / 1e9;

    long[] all = samples.stream().flatMapToLong(Arrays::stream).filter(v -> v > 0).sorted().toArray();
    System.out.printf(
        "%s c=%d: %.0f req/s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, %d requests, %d errors%n",
        uri.getPath(), concurrency, all.length / seconds, pct(all, 50), pct(all, 90), pct(all, 99),
        all.length == 0 ? 0 : all[all.length - 1] / 1e6, all.length, errors.get());
  }

  private static void run(HttpClient client, HttpRequest request, int concurrency, Duration duration,
      ConcurrentLinkedQueue<long[]> samples, AtomicLong errors) throws InterruptedException {
    long deadline = System.nanoTime() + duration.toNanos();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < concurrency; i++) {
        executor.submit(() -> {
          List<Long> mine = new ArrayList<>();
          while (System.nanoTime() < deadline) {
            long t0 = System.nanoTime();
            try {
              HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
              if (response.statusCode() != 200) {
                errors.incrementAndGet();
              } else {
                mine.add(System.nanoTime() - t0);
              }
            } catch (Exception e) {
              errors.incrementAndGet();
            }
          }
          samples.add(mine.stream().mapToLong(Long::longValue).toArray());
          return null;
        });
      }
    }
  }

  private static double pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1e6;
  }
}
