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
      String set = key(row);
      if (!row.get("state").equals("build") && !sets.contains(set)) {
        sets.add(set);
      }
    }

    for (Map<String, String> r : of(rows, "data")) {
      System.out.printf(
          "- %s vectors: mean cosine of a query's true 1st / 10th neighbour %s / %s; %s of"
              + " true top-10 neighbours in the query's own cluster%n",
          count(r.get("size")), r.get("nn1_cos"), r.get("nn10_cos"), r.get("same_cluster"));
    }
    System.out.println();
    System.out.println(
        "Build through apply() (batches of changes, each made searchable), then merges, then"
            + " compact():");
    System.out.println();
    System.out.println(
        "| vectors | layout | apply all + commit | merges settled | segments | compact() | on disk"
            + " merged / compacted |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Map<String, String> b : of(rows, "build")) {
      System.out.printf(
          "| %s | %s | %s s (%s docs/s, batches of %s) | +%s s | %s → %s | +%s s | %s / %s MiB |%n",
          count(b.get("size")),
          b.get("layout"),
          b.get("build_s"),
          b.get("docs_per_s"),
          b.get("batch"),
          minus(b.get("merged_s"), b.get("build_s")),
          b.get("segments_at_commit"),
          b.get("segments"),
          b.get("compact_s"),
          b.get("merged_mb"),
          b.get("compacted_mb"));
    }
    System.out.println();
    System.out.println(
        "Unfiltered vector search, single client (limit 10; k' = graph candidates re-ranked by"
            + " exact cosine):");
    System.out.println();
    System.out.println("| vectors | layout | index | k' | recall@10 | p50 | p99 |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Map<String, String> r : of(rows, "vector")) {
      System.out.printf(
          "| %s | %s | %s | %s | %s | %s ms | %s ms |%n",
          count(r.get("size")),
          r.get("layout"),
          r.get("state"),
          r.get("candidates"),
          r.get("recall"),
          r.get("p50_ms"),
          r.get("p99_ms"));
    }
    System.out.println();
    System.out.println(
        "Filtered vector search (k' = 100; the tag filter runs inside the graph search):");
    System.out.println();
    System.out.println("| vectors | layout | index | filter matches | recall@10 | p50 | p99 |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (Map<String, String> r : of(rows, "filtered")) {
      System.out.printf(
          "| %s | %s | %s | %s%% | %s | %s ms | %s ms |%n",
          count(r.get("size")),
          r.get("layout"),
          r.get("state"),
          r.get("tag").substring(1),
          r.get("recall"),
          r.get("p50_ms"),
          r.get("p99_ms"));
    }
    System.out.println();
    System.out.println("The other paths (k' = 100):");
    System.out.println();
    System.out.println(
        "| vectors | layout | index | segments | open + first query | QPS, 2 clients | hybrid p50"
            + " / p99 | text p50 / p99 | apply 1 change p50 / p99 | commit | index heap | process"
            + " RSS (anon / file) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (String set : sets) {
      Map<String, String> o = one(rows, "open", set);
      Map<String, String> m = one(rows, "memory", set);
      Map<String, String> q = one(rows, "qps", set);
      Map<String, String> a = one(rows, "apply", set);
      Map<String, String> h = oneMode(rows, set, "HYBRID");
      Map<String, String> t = oneMode(rows, set, "TEXT");
      String[] parts = set.split(" ");
      System.out.printf(
          "| %s | %s | %s | %s | %s + %s ms | %s | %s / %s ms | %s / %s ms | %s / %s ms | %s ms |"
              + " %s MiB | %s MiB (%s / %s) |%n",
          count(parts[0]),
          parts[1],
          parts[2],
          o.get("segments"),
          o.get("open_ms"),
          o.get("first_query_ms"),
          q.get("qps"),
          h.get("p50_ms"),
          h.get("p99_ms"),
          t.get("p50_ms"),
          t.get("p99_ms"),
          a.get("one_change_p50_ms"),
          a.get("one_change_p99_ms"),
          a.get("commit_ms"),
          m.get("heap_used_mb"),
          m.get("rss_mb"),
          m.get("rss_anon_mb"),
          m.get("rss_file_mb"));
    }
  }

  private static String key(Map<String, String> row) {
    return row.get("size") + " " + row.get("layout") + " " + row.get("state");
  }

  private static String minus(String a, String b) {
    return String.format(
        java.util.Locale.ROOT, "%.2f", Double.parseDouble(a) - Double.parseDouble(b));
  }

  private static List<Map<String, String>> of(List<Map<String, String>> rows, String kind) {
    return rows.stream().filter(r -> kind.equals(r.get("kind"))).toList();
  }

  private static Map<String, String> one(List<Map<String, String>> rows, String kind, String set) {
    return of(rows, kind).stream().filter(r -> set.equals(key(r))).findFirst().orElse(Map.of());
  }

  private static Map<String, String> oneMode(
      List<Map<String, String>> rows, String set, String mode) {
    return of(rows, "mode").stream()
        .filter(r -> set.equals(key(r)))
        .filter(r -> mode.equals(r.get("mode")))
        .findFirst()
        .orElse(Map.of());
  }

  private static String count(String size) {
    int n = Integer.parseInt(size);
    return n % 1_000_000 == 0 ? n / 1_000_000 + "M" : n % 1_000 == 0 ? n / 1_000 + "k" : size;
  }
}
