package dev.jodo.kernel.memory.index;

import dev.jodo.kernel.memory.MemoryRecord;
import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexableField;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;

/** How a {@link MemoryRecord} maps to a Lucene document and back. */
final class MemoryDocuments {
  static final String ID = "id";
  static final String NAMESPACE = "namespace";
  static final String TAG = "tag";
  static final String SOURCE = "source";
  static final String MODEL = "model";
  static final String CREATED_AT = "created_at";
  static final String CONTENT = "content";
  private static final String VECTOR_PREFIX = "vec.";
  private static final Set<String> STORED = Set.of(ID, TAG, SOURCE, CREATED_AT, CONTENT);

  private MemoryDocuments() {}

  /**
   * Each model gets its own vector field, hence its own HNSW graph: vectors of different models
   * live in different spaces (and may differ in dimension), so they must never be compared.
   */
  static String vectorField(String model) {
    return VECTOR_PREFIX + model;
  }

  static Term idTerm(String id) {
    return new Term(ID, id);
  }

  static Document toDocument(MemoryRecord record) {
    Document doc = new Document();
    doc.add(new StringField(ID, record.id(), Field.Store.YES));
    doc.add(new StringField(NAMESPACE, record.namespace(), Field.Store.NO));
    for (String tag : record.tags()) {
      doc.add(new StringField(TAG, tag, Field.Store.YES));
    }
    if (record.source() != null) {
      doc.add(new StringField(SOURCE, record.source(), Field.Store.YES));
    }
    doc.add(new StringField(MODEL, record.model(), Field.Store.NO));
    if (record.createdAt() != null) {
      // Postgres keeps microseconds, so does the index.
      doc.add(
          new StoredField(
              CREATED_AT, ChronoUnit.MICROS.between(Instant.EPOCH, record.createdAt())));
    }
    doc.add(new TextField(CONTENT, record.content(), Field.Store.YES));
    doc.add(
        new KnnFloatVectorField(
            vectorField(record.model()), record.embedding(), VectorSimilarityFunction.COSINE));
    return doc;
  }

  /**
   * Exact term filters: the namespace, every tag, the source if given, and the model if asked. A
   * vector search leaves the model out: only that model's documents have its vector field.
   */
  static Query filter(
      String namespace, Optional<String> model, Set<String> allTags, Optional<String> source) {
    BooleanQuery.Builder filter = new BooleanQuery.Builder();
    filter.add(new TermQuery(new Term(NAMESPACE, namespace)), Occur.FILTER);
    model.ifPresent(m -> filter.add(new TermQuery(new Term(MODEL, m)), Occur.FILTER));
    for (String tag : allTags) {
      filter.add(new TermQuery(new Term(TAG, tag)), Occur.FILTER);
    }
    source.ifPresent(s -> filter.add(new TermQuery(new Term(SOURCE, s)), Occur.FILTER));
    return filter.build();
  }

  static MemoryIndex.Hit toHit(StoredFields stored, int doc, double similarity) throws IOException {
    Document fields = stored.document(doc, STORED);
    List<String> tags = new ArrayList<>();
    for (IndexableField tag : fields.getFields(TAG)) {
      tags.add(tag.stringValue());
    }
    IndexableField created = fields.getField(CREATED_AT);
    Instant createdAt =
        created == null
            ? null
            : Instant.EPOCH.plus(created.numericValue().longValue(), ChronoUnit.MICROS);
    return new MemoryIndex.Hit(
        fields.get(ID), fields.get(CONTENT), tags, fields.get(SOURCE), createdAt, similarity);
  }
}
