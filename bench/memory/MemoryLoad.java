import java.io.IOException;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Closed-loop load for the end-to-end memory benchmark ({@code bench/memory/e2e.sh}): COUNT
 * generated memories stored through {@code POST /api/memory/store}, or COUNT generated questions
 * sent to {@code POST /api/memory/search}, by CONCURRENCY virtual threads sharing one HTTP/1.1
 * client. Loopback only. Every request is measured: send a warm-up phase first.
 *
 * <pre>
 * java bench/memory/MemoryLoad.java store  URL TOKEN COUNT CONCURRENCY [--first I] [options]
 * java bench/memory/MemoryLoad.java search URL TOKEN COUNT CONCURRENCY [--first I]
 *      [--mode hybrid|vector|text] [--limit N] [options]
 * java bench/memory/MemoryLoad.java sample [COUNT]     print generated memories and questions
 *
 * options: [--label TEXT] [--kernel-pid PID] [--pg-pid PID] [--clk-tck HZ]
 * </pre>
 *
 * <p>Memory i (and question i) is a pure function of i, so phases given different {@code --first}
 * store different memories and a rerun stores the same ones. A memory is whole sentences made
 * from fifteen templates with their slots filled from word lists (people, systems, cities, days,
 * foods …) and a few asides, added until a length drawn from 10 to 60 words is reached (never past
 * 60; 39 words on average), with one to three tags and source "bench". A question asks about one
 * template with fresh slot values, e.g. "When does the billing backup run and where does it go?",
 * so answers are in the corpus but worded differently.
 *
 * <p>Prints one line of key=value pairs: count, errors, seconds, rps, p50/p95/p99/max latency (ms,
 * to the last byte), for searches the mean number of results, and with --kernel-pid / --pg-pid
 * the CPU time (utime+stime from /proc) the kernel and its PostgreSQL (postmaster and backends)
 * used per request, plus the machine's busy share and the share used by anything else. A non-200
 * answer or an I/O error counts as an error, printed to stderr by kind; the exit status is then 1.
 */
public class MemoryLoad {
  private static final Pattern LOOPBACK_V4 = Pattern.compile("127(\\.\\d{1,3}){3}");
  private static final Pattern RESULT_ID = Pattern.compile("\"id\"\\s*:\\s*\"mem_");

  record Options(
      String command,
      URI uri,
      String token,
      int count,
      int concurrency,
      int first,
      String mode,
      int limit,
      String label,
      long kernelPid,
      long pgPid,
      int clkTck) {}

  public static void main(String[] args) throws Exception {
    if (args.length >= 1 && args[0].equals("sample")) {
      int n = args.length > 1 ? Integer.parseInt(args[1]) : 5;
      for (int i = 0; i < n; i++) {
        System.out.println(Corpus.memoryJson(i));
        System.out.println(Corpus.queryJson(i, "hybrid", 5));
      }
      return;
    }
    Options o = parse(args);
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    boolean store = o.command().equals("store");

    ConcurrentLinkedQueue<long[]> latencies = new ConcurrentLinkedQueue<>();
    LongAdder results = new LongAdder();
    AtomicLong errors = new AtomicLong();
    ConcurrentHashMap<String, LongAdder> kinds = new ConcurrentHashMap<>();
    ConcurrentHashMap<String, String> firstOfKind = new ConcurrentHashMap<>();
    AtomicInteger next = new AtomicInteger();

    CpuTimes before = CpuTimes.read(o);
    long start = System.nanoTime();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int t = 0; t < o.concurrency(); t++) {
        executor.submit(
            () -> {
              long[] mine = new long[o.count()];
              int size = 0;
              for (int i = next.getAndIncrement(); i < o.count(); i = next.getAndIncrement()) {
                int item = o.first() + i;
                String body =
                    store ? Corpus.memoryJson(item) : Corpus.queryJson(item, o.mode(), o.limit());
                HttpRequest request =
                    HttpRequest.newBuilder(o.uri())
                        .timeout(Duration.ofSeconds(60))
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + o.token())
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build();
                long t0 = System.nanoTime();
                String kind;
                String detail;
                try {
                  HttpResponse<String> response =
                      client.send(request, HttpResponse.BodyHandlers.ofString());
                  long t1 = System.nanoTime();
                  if (response.statusCode() == 200) {
                    mine[size++] = t1 - t0;
                    if (!store) {
                      Matcher m = RESULT_ID.matcher(response.body());
                      while (m.find()) {
                        results.increment();
                      }
                    }
                    continue;
                  }
                  kind = "HTTP " + response.statusCode();
                  detail = shorten(response.body());
                } catch (IOException e) {
                  kind = e.getClass().getName() + ": " + e.getMessage();
                  detail = "";
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  break;
                }
                errors.incrementAndGet();
                kinds.computeIfAbsent(kind, k -> new LongAdder()).increment();
                firstOfKind.putIfAbsent(kind, detail.isEmpty() ? kind : kind + ": " + detail);
              }
              latencies.add(Arrays.copyOf(mine, size));
              return null;
            });
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    CpuTimes after = CpuTimes.read(o);

    long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    long count = all.length;
    StringBuilder line = new StringBuilder();
    kv(line, "label", o.label());
    kv(line, "phase", o.command());
    if (!store) {
      kv(line, "mode", o.mode());
      kv(line, "limit", o.limit());
    }
    kv(line, "c", o.concurrency());
    kv(line, "first", o.first());
    kv(line, "count", count);
    kv(line, "errors", errors.get());
    kv(line, "seconds", fmt(seconds));
    kv(line, "rps", fmt(count / seconds));
    kv(line, "p50", ms(pct(all, 50)));
    kv(line, "p95", ms(pct(all, 95)));
    kv(line, "p99", ms(pct(all, 99)));
    kv(line, "max", ms(all.length == 0 ? 0 : all[all.length - 1]));
    if (!store) {
      kv(line, "mean_results", fmt(count == 0 ? 0 : results.sum() / (double) count));
    }
    double tick = 1e6 / o.clkTck(); // microseconds per clock tick
    if (o.kernelPid() > 0) {
      long ticks = after.kernel - before.kernel;
      kv(line, "kernel_cpu_ms_per_req", fmt(count == 0 ? 0 : ticks * tick / count / 1000));
    }
    if (o.pgPid() > 0) {
      long ticks = after.postgres - before.postgres;
      kv(line, "pg_cpu_ms_per_req", fmt(count == 0 ? 0 : ticks * tick / count / 1000));
    }
    kv(line, "loadgen_cpu_ms_per_req", fmt(count == 0 ? 0 : (after.self - before.self) * tick / count / 1000));
    long total = after.machineTotal - before.machineTotal;
    long busy = after.machineBusy - before.machineBusy;
    long ours = (after.kernel - before.kernel) + (after.postgres - before.postgres) + (after.self - before.self);
    kv(line, "machine_busy_pct", fmt(total == 0 ? 0 : 100.0 * busy / total));
    // CPU used by anything else on the machine (other work, the OS), as a share of all cores.
    kv(line, "other_cpu_pct", fmt(total == 0 ? 0 : Math.max(0, 100.0 * (busy - ours) / total)));
    System.out.println(line.toString().strip());
    if (errors.get() > 0) {
      System.err.println("MemoryLoad: " + errors.get() + " failed requests against " + o.uri() + " (" + o.label() + "):");
      kinds.forEach((kind, n) -> System.err.println("  " + n.sum() + " × " + firstOfKind.get(kind)));
      System.exit(1);
    }
  }

  /** Generated memories and questions: realistic-looking, varied, and reproducible by index. */
  static final class Corpus {
    static final String[] PEOPLE = {
      "Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Dennis", "Frances", "Edsger",
      "Radia", "Hedy", "Katherine", "Tim", "Sophie", "Yukihiro", "Guido", "Anita", "Leslie", "Niklaus"
    };
    static final String[] DRINKS = {"black coffee", "green tea", "oat milk lattes", "sparkling water", "espresso", "chai", "hot chocolate", "orange juice"};
    static final String[] TIMES = {"morning", "afternoon", "evening", "late night"};
    static final String[] PROJECTS = {"billing", "onboarding", "search", "mobile app", "data warehouse", "payments", "analytics", "website redesign", "migration", "support portal"};
    static final String[] DAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    static final String[] REASONS = {
      "the vendor missed a delivery", "two engineers were out sick", "legal needs another review",
      "the bank holiday", "a security audit", "the staging cluster was down", "the client changed the scope",
      "a heatwave closed the office"
    };
    static final String[] FOODS = {"peanuts", "shellfish", "gluten", "dairy", "sesame", "eggs", "soy", "strawberries"};
    static final String[] MEALS = {"vegetarian curry", "a vegan salad", "grilled fish", "mushroom risotto", "falafel wraps", "a gluten-free pizza"};
    static final String[] SYSTEMS = {"database", "mail server", "build server", "file share", "wiki", "CRM", "ticketing system", "VPN gateway", "Kubernetes cluster", "backup vault"};
    static final String[] HOURS = {"1am", "2am", "3am", "4am", "midnight", "11pm", "6am", "noon"};
    static final String[] PLACES = {"the offsite bucket", "a tape library", "the Frankfurt region", "cold storage", "the secondary data centre", "an encrypted USB drive"};
    static final String[] CITIES = {"Lisbon", "Berlin", "Tokyo", "Nairobi", "Toronto", "Melbourne", "Oslo", "Bogotá", "Seoul", "Dublin", "Austin", "Kraków"};
    static final String[] EVENTS = {"conference", "offsite", "product launch", "board meeting", "hackathon", "customer workshop", "training week", "trade fair"};
    static final String[] COMPANIES = {"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark Industries", "Wayne Enterprises", "Tyrell", "Cyberdyne"};
    static final String[] CHANGES = {"last upgrade", "schema migration", "new release", "network change", "certificate renewal", "failover test"};
    static final String[] PETS = {"cat", "dog", "parrot", "rabbit", "tortoise", "hamster"};
    static final String[] PET_NAMES = {"Turing", "Pixel", "Biscuit", "Noodle", "Mochi", "Pepper", "Ziggy", "Luna", "Waffles", "Kernel"};
    static final String[] FURNITURE = {"keyboard", "sofa", "windowsill", "bookshelf", "radiator", "laundry basket"};
    static final String[] DOCS = {"design document", "budget proposal", "incident report", "hiring plan", "roadmap", "security review", "release notes", "contract draft"};
    static final String[] STYLES = {"concise", "detailed", "formal", "friendly", "bullet-pointed", "blunt", "cautious", "playful"};
    static final String[] LANGUAGES = {"Python", "Rust", "Java", "Go", "TypeScript", "Haskell", "SQL", "Kotlin", "Spanish", "Japanese"};
    static final String[] TOPICS = {"recursion", "lifetimes", "generics", "monads", "concurrency", "pointers", "window functions", "the subjunctive", "kanji", "type inference"};
    static final String[] QUARTERS = {"first", "second", "third", "fourth"};
    static final String[] THINGS = {"cloud hosting", "contractors", "laptops", "travel", "licences", "training", "a new office", "marketing"};
    static final String[] POLICIES = {"security", "compliance", "company", "audit", "ISO 27001"};
    static final String[] ASIDES = {
      "%s said this matters a lot.", "This came up again on %s.", "%s wants a reminder about it.",
      "Nobody objected at the time.", "It was confirmed by email.", "%s will follow up next week.",
      "Keep this in mind for the next planning session.", "It is mentioned in the shared notes as well."
    };

    record Sentence(String text, String tag) {}

    static Sentence sentence(Random r, int template) {
      String p = pick(r, PEOPLE);
      String q = pick(r, PEOPLE);
      return switch (template) {
        case 0 -> new Sentence(p + " prefers " + pick(r, DRINKS) + " in the " + pick(r, TIMES) + " and dislikes " + pick(r, DRINKS) + ".", "preferences");
        case 1 -> new Sentence("The " + pick(r, PROJECTS) + " deadline moved to " + pick(r, DAYS) + " because " + pick(r, REASONS) + ".", "projects");
        case 2 -> new Sentence(p + " is allergic to " + pick(r, FOODS) + " and asked for " + pick(r, MEALS) + " at the team lunch.", "health");
        case 3 -> new Sentence("Remember that the " + pick(r, SYSTEMS) + " backup runs at " + pick(r, HOURS) + " and copies everything to " + pick(r, PLACES) + ".", "ops");
        case 4 -> new Sentence(p + " booked a flight to " + pick(r, CITIES) + " for the " + pick(r, EVENTS) + " on " + pick(r, DAYS) + ".", "travel");
        case 5 -> new Sentence("A customer from " + pick(r, COMPANIES) + " reported that the " + pick(r, SYSTEMS) + " was slow after the " + pick(r, CHANGES) + ".", "support");
        case 6 -> new Sentence(p + "'s " + pick(r, PETS) + " is called " + pick(r, PET_NAMES) + " and sleeps on the " + pick(r, FURNITURE) + ".", "personal");
        case 7 -> new Sentence("During the " + pick(r, DAYS) + " meeting " + p + " agreed to review the " + pick(r, DOCS) + " before " + pick(r, DAYS) + ".", "meetings");
        case 8 -> new Sentence("The " + pick(r, SYSTEMS) + " password must be rotated every " + (30 + 30 * r.nextInt(6)) + " days under the " + pick(r, POLICIES) + " policy.", "security");
        case 9 -> new Sentence(p + " wants answers that are " + pick(r, STYLES) + " and " + pick(r, STYLES) + ", with examples in " + pick(r, LANGUAGES) + ".", "preferences");
        case 10 -> new Sentence("Our " + pick(r, PROJECTS) + " budget for the " + pick(r, QUARTERS) + " quarter is " + (5 + r.nextInt(95)) + " thousand dollars, mostly for " + pick(r, THINGS) + ".", "finance");
        case 11 -> new Sentence(p + " mentioned that the " + pick(r, CITIES) + " office closes early on " + pick(r, DAYS) + " because of " + pick(r, REASONS) + ".", "office");
        case 12 -> new Sentence("If the " + pick(r, SYSTEMS) + " alert fires at night, page " + p + " first and then " + q + ".", "ops");
        case 13 -> new Sentence(p + " is learning " + pick(r, LANGUAGES) + " and finds " + pick(r, TOPICS) + " confusing but " + pick(r, TOPICS) + " easy.", "learning");
        default -> new Sentence("The " + pick(r, EVENTS) + " in " + pick(r, CITIES) + " was rescheduled, so " + p + " will present the " + pick(r, DOCS) + " instead of " + q + ".", "meetings");
      };
    }

    static final int TEMPLATES = 15;

    /** Memory i: whole sentences, 10 to 60 words (the first sentence past a random target), one to three tags. */
    static String memoryJson(int i) {
      Random r = new Random(0x6D656D6FL * 31 + i);
      int target = 10 + r.nextInt(51);
      List<String> sentences = new ArrayList<>();
      LinkedHashSet<String> tags = new LinkedHashSet<>();
      int words = 0;
      while (words < target) {
        String text;
        String tag = null;
        if (!sentences.isEmpty() && r.nextInt(4) == 0) {
          String aside = pick(r, ASIDES);
          text = aside.contains("%s") ? String.format(aside, r.nextBoolean() ? pick(r, PEOPLE) : pick(r, DAYS)) : aside;
        } else {
          Sentence s = sentence(r, r.nextInt(TEMPLATES));
          text = s.text();
          tag = s.tag();
        }
        int n = text.split(" ").length;
        if (!sentences.isEmpty() && words + n > 60) {
          break;
        }
        sentences.add(text);
        words += n;
        if (tag != null && tags.size() < 3) {
          tags.add(tag);
        }
      }
      String content = String.join(" ", sentences);
      if (r.nextInt(3) == 0 && tags.size() < 3) {
        tags.add("batch-" + (i % 10));
      }
      StringBuilder json = new StringBuilder("{\"content\":").append(quote(content)).append(",\"tags\":[");
      int n = 0;
      for (String tag : tags) {
        json.append(n++ == 0 ? "" : ",").append(quote(tag));
      }
      return json.append("],\"source\":\"bench\"}").toString();
    }

    /** Question i: about one template, in different words from the memories. */
    static String queryJson(int i, String mode, int limit) {
      Random r = new Random(0x71756572L * 31 + i);
      String p = pick(r, PEOPLE);
      String query = switch (r.nextInt(TEMPLATES)) {
        case 0 -> "What does " + p + " like to drink in the " + pick(r, TIMES) + "?";
        case 1 -> "When is the " + pick(r, PROJECTS) + " deadline now?";
        case 2 -> "Which food is " + p + " allergic to?";
        case 3 -> "When does the " + pick(r, SYSTEMS) + " backup run and where does it go?";
        case 4 -> "Where is " + p + " flying for the " + pick(r, EVENTS) + "?";
        case 5 -> "Which customer complained about the " + pick(r, SYSTEMS) + " being slow?";
        case 6 -> "What is the name of " + p + "'s " + pick(r, PETS) + "?";
        case 7 -> "Who is reviewing the " + pick(r, DOCS) + "?";
        case 8 -> "How often do we rotate the " + pick(r, SYSTEMS) + " password?";
        case 9 -> "How does " + p + " like answers to be written?";
        case 10 -> "How much money is there for " + pick(r, PROJECTS) + " this quarter?";
        case 11 -> "Is the " + pick(r, CITIES) + " office open late on " + pick(r, DAYS) + "?";
        case 12 -> "Who gets paged when the " + pick(r, SYSTEMS) + " alert goes off?";
        case 13 -> "What is " + p + " studying at the moment?";
        default -> "Which " + pick(r, EVENTS) + " was moved to another date?";
      };
      return "{\"query\":" + quote(query) + ",\"limit\":" + limit + ",\"mode\":" + quote(mode) + "}";
    }

    private static String pick(Random r, String[] words) {
      return words[r.nextInt(words.length)];
    }

    static String quote(String s) {
      StringBuilder out = new StringBuilder("\"");
      for (int k = 0; k < s.length(); k++) {
        char c = s.charAt(k);
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          default -> {
            if (c < 0x20) {
              out.append(String.format("\\u%04x", (int) c));
            } else {
              out.append(c);
            }
          }
        }
      }
      return out.append('"').toString();
    }
  }

  /** Clock ticks of utime+stime, read at the edges of the measured phase. */
  record CpuTimes(long kernel, long postgres, long self, long machineBusy, long machineTotal) {
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
      long self = ticks(ProcessHandle.current().pid(), false);
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < Math.min(cpu.length, 9); i++) { // user..steal
        total += Long.parseLong(cpu[i]);
      }
      long idle = Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]);
      return new CpuTimes(kernel, postgres, self, total - idle, total);
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

  private static Options parse(String[] args) {
    List<String> positional = new ArrayList<>();
    int first = 0;
    String mode = "hybrid";
    int limit = 5;
    String label = "-";
    long kernelPid = 0;
    long pgPid = 0;
    int clkTck = 100;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--first" -> first = Integer.parseInt(args[++i]);
        case "--mode" -> mode = args[++i];
        case "--limit" -> limit = Integer.parseInt(args[++i]);
        case "--label" -> label = args[++i];
        case "--kernel-pid" -> kernelPid = Long.parseLong(args[++i]);
        case "--pg-pid" -> pgPid = Long.parseLong(args[++i]);
        case "--clk-tck" -> clkTck = Integer.parseInt(args[++i]);
        default -> positional.add(args[i]);
      }
    }
    if (positional.size() != 5 || !List.of("store", "search").contains(positional.get(0))) {
      System.err.println(
          "usage: java MemoryLoad.java store|search URL TOKEN COUNT CONCURRENCY [--first I]"
              + " [--mode hybrid|vector|text] [--limit N] [--label TEXT] [--kernel-pid PID]"
              + " [--pg-pid PID] [--clk-tck HZ]\n       java MemoryLoad.java sample [COUNT]");
      System.exit(2);
    }
    URI uri = URI.create(positional.get(1));
    // Literal loopback names only: no name resolution, so nothing can leave the machine.
    String host = uri.getHost();
    if (host == null
        || !"http".equals(uri.getScheme())
        || !(host.equals("localhost") || host.equals("[::1]") || LOOPBACK_V4.matcher(host).matches())) {
      System.err.println("MemoryLoad: loopback http:// targets only, not " + uri);
      System.exit(2);
    }
    int count = Integer.parseInt(positional.get(3));
    int concurrency = Integer.parseInt(positional.get(4));
    if (count < 1 || concurrency < 1 || concurrency > 1024) {
      System.err.println("MemoryLoad: COUNT must be at least 1 and CONCURRENCY from 1 to 1024");
      System.exit(2);
    }
    if (!List.of("hybrid", "vector", "text").contains(mode)) {
      System.err.println("MemoryLoad: --mode is hybrid, vector or text, not " + mode);
      System.exit(2);
    }
    return new Options(
        positional.get(0), uri, positional.get(2), count, concurrency, first, mode, limit, label, kernelPid, pgPid, clkTck);
  }

  private static long pct(long[] sorted, int p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  private static String shorten(String body) {
    String s = body.replace('\n', ' ');
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  private static String ms(long nanos) {
    return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static void kv(StringBuilder line, String key, Object value) {
    line.append(key).append('=').append(value).append(' ');
  }
}
