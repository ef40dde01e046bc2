package dev.jodo.kernel.memory.index;

import dev.jodo.kernel.memory.MemoryChange;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.TermQuery;

/**
 * This kernel's Lucene index of memories: HNSW vectors (one graph per embedding model) and BM25
 * text, filtered by namespace, tags and source. Postgres is the truth; the index follows its change
 * feed and remembers how far it got (the watermark), so it can always catch up or be rebuilt.
 *
 * <pre>{@code
 * try (MemoryIndex index = MemoryIndex.open(home.resolve("index"))) {
 *   index.apply(feed.after(index.watermark()));   // searchable when apply returns
 *   List<Hit> hits = index.search(new Query("jodo", "all-minilm-l6-v2", vector, "how to talk",
 *       Set.of(), Optional.empty(), 5, Optional.empty(), Mode.HYBRID));
 *   index.commit();                               // periodically; close() commits too
 * }
 * }</pre>
 *
 * <p>Many threads may search while one thread applies, commits or clears.
 */
public final class MemoryIndex implements AutoCloseable {
  private final IndexStore store;
  private final MemorySearch search;

  public enum Mode {
    HYBRID,
    VECTOR,
    TEXT
  }

  /**
   * A search. Every mode filters by namespace, model, all of {@code allTags} and the source, and
   * reports each hit's exact cosine to {@code vector}; {@code minSimilarity} applies to that cosine
   * after ranking, then {@code limit}.
   */
  public record Query(
      String namespace,
      String model,
      float[] vector,
      String text,
      Set<String> allTags,
      Optional<String> source,
      int limit,
      Optional<Double> minSimilarity,
      Mode mode) {

    public Query {
      require(namespace != null && !namespace.isBlank(), "namespace must not be blank");
      require(model != null && !model.isBlank(), "model must not be blank");
      String problem = ChangeBatch.vectorProblem(vector);
      require(problem == null, "vector " + problem);
      vector = vector.clone();
      text = text == null ? "" : text;
      allTags = allTags == null ? Set.of() : Set.copyOf(allTags);
      source = source == null ? Optional.empty() : source;
      require(limit >= 1 && limit <= 10_000, "limit must be in [1, 10000]: " + limit);
      minSimilarity = minSimilarity == null ? Optional.empty() : minSimilarity;
      minSimilarity.ifPresent(
          min -> require(min >= -1 && min <= 1, "minSimilarity must be in [-1, 1]: " + min));
      require(mode != null, "mode must be HYBRID, VECTOR or TEXT");
    }

    @Override
    public float[] vector() {
      return vector.clone();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Query q
          && namespace.equals(q.namespace)
          && model.equals(q.model)
          && Arrays.equals(vector, q.vector)
          && text.equals(q.text)
          && allTags.equals(q.allTags)
          && source.equals(q.source)
          && limit == q.limit
          && minSimilarity.equals(q.minSimilarity)
          && mode == q.mode;
    }

    @Override
    public int hashCode() {
      return 31 * Objects.hash(namespace, model, text, allTags, source, limit, mode)
          + Arrays.hashCode(vector);
    }

    @Override
    public String toString() {
      return "Query[namespace=%s, model=%s, vector=%d dims, text=%s, allTags=%s, source=%s, limit=%d, minSimilarity=%s, mode=%s]"
          .formatted(
              namespace, model, vector.length, text, allTags, source, limit, minSimilarity, mode);
    }

    private static void require(boolean condition, String message) {
      if (!condition) {
        throw new IllegalArgumentException(message);
      }
    }
  }

  /** A memory found by a search; {@code similarity} is its exact cosine to the query vector. */
  public record Hit(
      String id,
      String content,
      List<String> tags,
      String source,
      Instant createdAt,
      double similarity) {
    public Hit {
      tags = List.copyOf(tags);
    }
  }

  private MemoryIndex(IndexStore store, MemorySearch search) {
    this.store = store;
    this.search = search;
  }

  /** Opens the index in {@code directory}, creating it when missing. */
  public static MemoryIndex open(Path directory) {
    return open(directory, IndexSettings.DEFAULTS);
  }

  static MemoryIndex open(Path directory, IndexSettings settings) {
    StandardAnalyzer analyzer = new StandardAnalyzer();
    return new MemoryIndex(
        IndexStore.open(directory, settings, analyzer), new MemorySearch(analyzer, settings));
  }

  /** The seq of the last change applied; 0 for a new or cleared index. */
  public long watermark() {
    return store.watermark();
  }

  /**
   * Applies changes in seq order (upsert by id, or delete) and makes them searchable before it
   * returns. Changes at or below the watermark are skipped, so replaying a page is harmless. A
   * change that cannot be indexed fails the whole call before anything is written.
   */
  public void apply(List<MemoryChange> changes) {
    store.apply(changes);
  }

  /**
   * Makes everything applied so far durable, with the watermark. After a crash the index reopens at
   * the last commit's watermark and the feed is replayed from there.
   */
  public void commit() {
    store.commit();
  }

  /**
   * Deletes every memory and resets the watermark to 0, durably at once: a rebuild that a crash
   * interrupts resumes from its own progress, never from the index it replaced.
   */
  public void clear() {
    store.clear();
  }

  public List<Hit> search(Query query) {
    return store.withSearcher("search", searcher -> search.search(searcher, query));
  }

  /** Live memories in {@code namespace}. */
  public long liveCount(String namespace) {
    return store.withSearcher(
        "count namespace " + namespace,
        searcher ->
            (long) searcher.count(new TermQuery(new Term(MemoryDocuments.NAMESPACE, namespace))));
  }

  /**
   * The embedding models of {@code namespace}'s live memories. More than one means their vectors
   * cannot be compared until they are re-embedded.
   */
  public java.util.Set<String> models(String namespace) {
    return store.withSearcher(
        "list the models of namespace " + namespace,
        searcher -> {
          java.util.Set<String> seen = new java.util.TreeSet<>();
          for (org.apache.lucene.index.LeafReaderContext leaf :
              searcher.getIndexReader().leaves()) {
            org.apache.lucene.index.Terms terms = leaf.reader().terms(MemoryDocuments.MODEL);
            if (terms == null) {
              continue;
            }
            org.apache.lucene.index.TermsEnum models = terms.iterator();
            for (org.apache.lucene.util.BytesRef term = models.next();
                term != null;
                term = models.next()) {
              seen.add(term.utf8ToString());
            }
          }
          java.util.Set<String> live = new java.util.TreeSet<>();
          for (String model : seen) {
            org.apache.lucene.search.BooleanQuery inNamespace =
                new org.apache.lucene.search.BooleanQuery.Builder()
                    .add(
                        new TermQuery(new Term(MemoryDocuments.NAMESPACE, namespace)),
                        org.apache.lucene.search.BooleanClause.Occur.FILTER)
                    .add(
                        new TermQuery(new Term(MemoryDocuments.MODEL, model)),
                        org.apache.lucene.search.BooleanClause.Occur.FILTER)
                    .build();
            if (searcher.count(inNamespace) > 0) {
              live.add(model);
            }
          }
          return live;
        });
  }

  /**
   * Merges the whole index into one segment, hence one HNSW graph per model: searches then cost a
   * fraction of what they cost over the dozen or so segments a rebuild leaves (see
   * docs/performance.md). Takes minutes per million memories; applies and searches carry on
   * meanwhile. Meant for the end of a full rebuild.
   */
  public void compact() {
    store.forceMerge(1);
  }

  /** Commits, then closes. */
  @Override
  public void close() {
    store.close();
  }

  /** The store underneath, for tests and benchmarks (crash simulation, merges, segments). */
  IndexStore store() {
    return store;
  }
}
