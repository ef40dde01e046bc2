package dev.jodo.kernel.memory.index;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns the {@code result ...} lines of {@link MemoryIndexBench} runs into markdown tables. */
final class BenchReport {
  private BenchReport() {}

  public static void main(String[] args) throws Exception {
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[0]))) {
      if (!line.startsWith("result ")) {
        continue;
      }
      Map<String, String> row = new LinkedHashMap<>();
      for (String part : line.substring(7).split(" ")) {
        int eq = part.indexOf('=');
        row.put(part.substring(0, eq), part.substring(eq + 1));
      }
      rows.add(row);
    }
    List<String> sets = new ArrayList<>();
    for (Map<String, String> row : rows) {
      String set = row.get("size") + " " + row.get("layout");
      if (!sets.contains(set)) {
        sets.add(set);
      }
    }

    System.out.println(
        "Unfiltered vector search (limit 10; k' = graph candidates re-ranked by exact cosine):");
    System.out.println();
    System.out.println("| vectors | layout | k' | recall@10 | p50 | p99 |");
    System.out.println("|---|---|---|---|---|---|");
    for (Map<String, String> r : of(rows, "vector")) {
      System.out.printf(
          "| %s | %s | %s | %s | %s ms | %s ms |%n",
          count(r.get("size")),
          r.get("layout"),
          r.get("candidates"),
          r.get("recall"),
          r.get("p50_ms"),
          r.get("p99_ms"));
    }
    System.out.println();
    System.out.println(
        "Filtered vector search (k' = 100; the tag filter runs inside the graph search):");
    System.out.println();
    System.out.println("| vectors | layout | filter matches | recall@10 | p50 | p99 |");
    System.out.println("|---|---|---|---|---|---|");
    for (Map<String, String> r : of(rows, "filtered")) {
      System.out.printf(
          "| %s | %s | %s%% | %s | %s ms | %s ms |%n",
          count(r.get("size")),
          r.get("layout"),
          r.get("tag").substring(1),
          r.get("recall"),
          r.get("p50_ms"),
          r.get("p99_ms"));
    }
    System.out.println();
    System.out.println("Build, footprint and the other paths (k' = 100):");
    System.out.println();
    System.out.println(
        "| vectors | layout | build (apply + commit) | merges settled | segments | index on disk | index heap | process RSS (anon / file) | open + first query | QPS, 2 clients | hybrid p50 / p99 | text p50 / p99 | apply 1 change p50 / p99 | commit |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (String set : sets) {
      Map<String, String> b = one(rows, "build", set);
      Map<String, String> o = one(rows, "open", set);
      Map<String, String> m = one(rows, "memory", set);
      Map<String, String> q = one(rows, "qps", set);
      Map<String, String> a = one(rows, "apply", set);
      Map<String, String> h = oneMode(rows, set, "HYBRID");
      Map<String, String> t = oneMode(rows, set, "TEXT");
      String[] parts = set.split(" ");
      System.out.printf(
          "| %s | %s | %s s (%s docs/s, batches of %s) | %s s | %s → %s | %s MiB | %s MiB | %s MiB (%s / %s) | %s ms + %s ms | %s | %s / %s ms | %s / %s ms | %s / %s ms | %s ms |%n",
          count(parts[0]),
          parts[1],
          b.get("build_s"),
          b.get("docs_per_s"),
          b.get("batch"),
          b.get("merged_s"),
          b.get("segments_at_commit"),
          b.get("segments"),
          b.get("index_mb"),
          m.get("heap_used_mb"),
          m.get("rss_mb"),
          m.get("rss_anon_mb"),
          m.get("rss_file_mb"),
          o.get("open_ms"),
          o.get("first_query_ms"),
          q.get("qps"),
          h.get("p50_ms"),
          h.get("p99_ms"),
          t.get("p50_ms"),
          t.get("p99_ms"),
          a.get("one_change_p50_ms"),
          a.get("one_change_p99_ms"),
          a.get("commit_ms"));
    }
  }

  private static List<Map<String, String>> of(List<Map<String, String>> rows, String kind) {
    return rows.stream().filter(r -> kind.equals(r.get("kind"))).toList();
  }

  private static Map<String, String> one(List<Map<String, String>> rows, String kind, String set) {
    return of(rows, kind).stream()
        .filter(r -> set.equals(r.get("size") + " " + r.get("layout")))
        .findFirst()
        .orElse(Map.of());
  }

  private static Map<String, String> oneMode(
      List<Map<String, String>> rows, String set, String mode) {
    return of(rows, "mode").stream()
        .filter(r -> set.equals(r.get("size") + " " + r.get("layout")))
        .filter(r -> mode.equals(r.get("mode")))
        .findFirst()
        .orElse(Map.of());
  }

  private static String count(String size) {
    int n = Integer.parseInt(size);
    return n % 1_000_000 == 0 ? n / 1_000_000 + "M" : n % 1_000 == 0 ? n / 1_000 + "k" : size;
  }
}
