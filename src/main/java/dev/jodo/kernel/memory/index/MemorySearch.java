package dev.jodo.kernel.memory.index;

import dev.jodo.kernel.memory.index.MemoryIndex.Hit;
import dev.jodo.kernel.memory.index.MemoryIndex.Mode;
import dev.jodo.kernel.memory.index.RankFusion.Candidate;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;

/** Runs one {@link MemoryIndex.Query} against one point-in-time searcher. */
final class MemorySearch {
  /** Keeps a long query text well under Lucene's 1024-clause limit. */
  static final int MAX_TEXT_TERMS = 256;

  private final Analyzer analyzer;
  private final IndexSettings settings;

  MemorySearch(Analyzer analyzer, IndexSettings settings) {
    this.analyzer = analyzer;
    this.settings = settings;
  }

  List<Hit> search(IndexSearcher searcher, MemoryIndex.Query query) throws IOException {
    String field = MemoryDocuments.vectorField(query.model());
    if (!hasVectors(searcher, field, query)) {
      return List.of();
    }
    int pool = query.mode() == Mode.VECTOR ? query.limit() : Math.max(query.limit() * 4, 50);
    List<Candidate> ranked =
        switch (query.mode()) {
          case VECTOR -> byVector(searcher, query, field, pool);
          case TEXT -> byText(searcher, query, field, pool);
          case HYBRID ->
              RankFusion.fuse(
                  byVector(searcher, query, field, pool), byText(searcher, query, field, pool));
        };
    StoredFields stored = searcher.storedFields();
    double floor = query.minSimilarity().orElse(Double.NEGATIVE_INFINITY);
    List<Hit> hits = new ArrayList<>(query.limit());
    for (Candidate candidate : ranked) {
      if (hits.size() == query.limit()) {
        break;
      }
      if (candidate.cosine() >= floor) {
        hits.add(MemoryDocuments.toHit(stored, candidate.doc(), candidate.cosine()));
      }
    }
    return hits;
  }

  /**
   * Graph candidates (at least {@code minCandidates}) re-ranked by exact cosine. The filter runs
   * inside the graph search; when it is selective Lucene scores the matching documents exactly, so
   * a filter matching few documents still yields every one of them.
   */
  private List<Candidate> byVector(
      IndexSearcher searcher, MemoryIndex.Query query, String field, int pool) throws IOException {
    int k = Math.max(pool, settings.minCandidates());
    Query filter =
        MemoryDocuments.filter(
            query.namespace(), Optional.empty(), query.allTags(), query.source());
    TopDocs top = searcher.search(new KnnFloatVectorQuery(field, query.vector(), k, filter), k);
    List<Candidate> ranked = withCosines(searcher, field, query.vector(), top);
    ranked.sort(
        Comparator.comparingDouble((Candidate c) -> -c.cosine()).thenComparingInt(Candidate::doc));
    return ranked.size() > pool ? ranked.subList(0, pool) : ranked;
  }

  /** BM25 over the content, best first, under the same filters plus the model. */
  private List<Candidate> byText(
      IndexSearcher searcher, MemoryIndex.Query query, String field, int pool) throws IOException {
    Query terms = textQuery(query.text());
    if (terms == null) {
      return List.of();
    }
    Query filter =
        MemoryDocuments.filter(
            query.namespace(), Optional.of(query.model()), query.allTags(), query.source());
    // SHOULD clauses become optional beside a FILTER clause, hence the nesting.
    Query filtered =
        new BooleanQuery.Builder().add(terms, Occur.MUST).add(filter, Occur.FILTER).build();
    return withCosines(searcher, field, query.vector(), searcher.search(filtered, pool));
  }

  private static List<Candidate> withCosines(
      IndexSearcher searcher, String field, float[] vector, TopDocs top) throws IOException {
    int[] docs = new int[top.scoreDocs.length];
    for (int i = 0; i < docs.length; i++) {
      docs[i] = top.scoreDocs[i].doc;
    }
    double[] cosines = ExactCosine.of(searcher, field, vector, docs);
    List<Candidate> candidates = new ArrayList<>(docs.length);
    for (int i = 0; i < docs.length; i++) {
      if (!Double.isNaN(cosines[i])) {
        candidates.add(new Candidate(docs[i], cosines[i]));
      }
    }
    return candidates;
  }

  /**
   * The analyzer's distinct tokens as optional term clauses: any text is a valid query, there is no
   * syntax to get wrong. Null when the text has no tokens.
   */
  Query textQuery(String text) throws IOException {
    if (text == null || text.isBlank()) {
      return null;
    }
    Set<String> tokens = new LinkedHashSet<>();
    try (TokenStream stream = analyzer.tokenStream(MemoryDocuments.CONTENT, text)) {
      CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
      stream.reset();
      while (tokens.size() < MAX_TEXT_TERMS && stream.incrementToken()) {
        tokens.add(term.toString());
      }
      stream.end();
    }
    if (tokens.isEmpty()) {
      return null;
    }
    BooleanQuery.Builder any = new BooleanQuery.Builder();
    for (String token : tokens) {
      any.add(new TermQuery(new Term(MemoryDocuments.CONTENT, token)), Occur.SHOULD);
    }
    return any.build();
  }

  /**
   * Whether any segment holds vectors of the query's model; refuses a query vector whose dimension
   * differs from theirs.
   */
  private static boolean hasVectors(IndexSearcher searcher, String field, MemoryIndex.Query query) {
    boolean found = false;
    for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
      FieldInfo info = leaf.reader().getFieldInfos().fieldInfo(field);
      if (info == null || !info.hasVectorValues()) {
        continue;
      }
      if (info.getVectorDimension() != query.vector().length) {
        throw new IllegalArgumentException(
            "query vector has %d dimensions but the index holds %d-dimension vectors for model %s"
                .formatted(query.vector().length, info.getVectorDimension(), query.model()));
      }
      found = true;
    }
    return found;
  }
}
