package dev.jodo.kernel.memory.index;

import java.io.IOException;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues.DocIndexIterator;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.IndexSearcher;

/**
 * The cosine between a query vector and stored vectors, computed in double precision from the float
 * vectors Lucene keeps beside the graph. Graph scores are transformed ({@code (1 + cos) / 2}) and,
 * with quantization, approximate; hits report this value instead.
 */
final class ExactCosine {
  private ExactCosine() {}

  /**
   * {@code result[i]} is the cosine for top-level doc {@code docs[i]}, or NaN when that document
   * has no vector in {@code field}.
   */
  static double[] of(IndexSearcher searcher, String field, float[] query, int[] docs)
      throws IOException {
    double queryNorm = Math.sqrt(dot(query, query));
    double[] result = new double[docs.length];
    // Vector iterators only move forward, so visit the documents in doc-id order.
    int[] order =
        IntStream.range(0, docs.length)
            .boxed()
            .sorted((a, b) -> Integer.compare(docs[a], docs[b]))
            .mapToInt(Integer::intValue)
            .toArray();
    List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
    int leafIndex = -1;
    LeafReaderContext leaf = null;
    FloatVectorValues values = null;
    DocIndexIterator iterator = null;
    for (int i : order) {
      int leafOf = ReaderUtil.subIndex(docs[i], leaves);
      if (leafOf != leafIndex) {
        leafIndex = leafOf;
        leaf = leaves.get(leafOf);
        values = leaf.reader().getFloatVectorValues(field);
        iterator = values == null ? null : values.iterator();
      }
      int local = docs[i] - leaf.docBase;
      if (iterator != null && iterator.docID() < local) {
        iterator.advance(local);
      }
      result[i] =
          iterator != null && iterator.docID() == local
              ? cosine(query, queryNorm, values.vectorValue(iterator.index()))
              : Double.NaN;
    }
    return result;
  }

  static double cosine(float[] a, float[] b) {
    return cosine(a, Math.sqrt(dot(a, a)), b);
  }

  private static double cosine(float[] query, double queryNorm, float[] stored) {
    double dot = 0;
    double norm = 0;
    for (int d = 0; d < query.length; d++) {
      dot += (double) query[d] * stored[d];
      norm += (double) stored[d] * stored[d];
    }
    double cosine = dot / (queryNorm * Math.sqrt(norm));
    return Math.max(-1, Math.min(1, cosine));
  }

  private static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int d = 0; d < a.length; d++) {
      sum += (double) a[d] * b[d];
    }
    return sum;
  }
}
