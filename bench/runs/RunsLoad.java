import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

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
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    AtomicLong deadline = new AtomicLong(System.nanoTime() + seconds * 1_000_000_000L);
    long started = System.nanoTime();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < clients; c++) {
        pool.submit(
            () -> {
              while (System.nanoTime() < deadline.get()) {
                int n = next.getAndIncrement();
                if (n >= total) {
                  return null;
                }
                String body =
                    "{\"schema_version\":1,\"type\":\"message\",\"conversation_key\":\"bench-"
                        + (n % conversations)
                        + "\",\"text\":\"event "
                        + n
                        + "\"}";
                HttpResponse<String> response =
                    http.send(
                        HttpRequest.newBuilder(URI.create(url + "/v1/events"))
                            .header("Authorization", "Bearer " + token)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                (response.statusCode() == 202 ? accepted : refused).incrementAndGet();
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
}
