package dev.jodo.kernel.memory.index;

import java.io.IOException;
import java.util.concurrent.ExecutorService;
import org.apache.lucene.codecs.Codec;
import org.apache.lucene.codecs.FilterCodec;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.codecs.lucene104.Lucene104Codec;
import org.apache.lucene.codecs.lucene104.Lucene104HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.index.SegmentReadState;
import org.apache.lucene.index.SegmentWriteState;
import org.apache.lucene.util.quantization.QuantizedByteVectorValues.ScalarEncoding;

/**
 * Lucene's default codec with our HNSW parameters, optional int8 quantization and a 4096-dimension
 * limit (the stock formats stop at 1024, too few for 1536-dimension embeddings).
 *
 * <p>Every change here only matters while writing: graph parameters, the quantization choice and
 * the dimension check are all consulted by the writer. So the codec and the vector format keep the
 * stock names, and a segment written with them is read back through Lucene's own SPI entries
 * ({@code Lucene104}, {@code Lucene104HnswBinaryQuantizedVectorsFormat}, {@code
 * Lucene99HnswVectorsFormat}): no {@code META-INF/services} registration is needed, and any Lucene
 * 10.6 tool can open the index. Do not give this codec or {@link WideVectorsFormat} a name of its
 * own without registering it, or reopening the index fails.
 */
final class MemoryCodec extends FilterCodec {
  static final int MAX_DIMENSIONS = 4096;

  private final KnnVectorsFormat vectorsFormat;
  private final KnnVectorsFormat perField =
      new PerFieldKnnVectorsFormat() {
        @Override
        public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
          return vectorsFormat;
        }
      };

  /**
   * @param mergeThreads runs {@code settings.mergeWorkers()} graph builders per merge; null when
   *     that is 1
   */
  MemoryCodec(IndexSettings settings, ExecutorService mergeThreads) {
    this(new Lucene104Codec(), settings, mergeThreads);
  }

  private MemoryCodec(Codec delegate, IndexSettings settings, ExecutorService mergeThreads) {
    super(delegate.getName(), delegate);
    int m = settings.maxConn();
    int beam = settings.beamWidth();
    int workers = settings.mergeWorkers();
    KnnVectorsFormat graph =
        switch (settings.vectors()) {
          case INT8 ->
              new Lucene104HnswScalarQuantizedVectorsFormat(
                  ScalarEncoding.UNSIGNED_BYTE, m, beam, workers, mergeThreads);
          case FLOAT32 -> new Lucene99HnswVectorsFormat(m, beam, workers, mergeThreads);
        };
    this.vectorsFormat = new WideVectorsFormat(graph);
  }

  @Override
  public KnnVectorsFormat knnVectorsFormat() {
    return perField;
  }

  /** A stock vectors format, under its own name, that accepts up to 4096 dimensions. */
  static final class WideVectorsFormat extends KnnVectorsFormat {
    private final KnnVectorsFormat delegate;

    WideVectorsFormat(KnnVectorsFormat delegate) {
      super(delegate.getName());
      this.delegate = delegate;
    }

    @Override
    public KnnVectorsWriter fieldsWriter(SegmentWriteState state) throws IOException {
      return delegate.fieldsWriter(state);
    }

    @Override
    public KnnVectorsReader fieldsReader(SegmentReadState state) throws IOException {
      return delegate.fieldsReader(state);
    }

    @Override
    public int getMaxDimensions(String fieldName) {
      return MAX_DIMENSIONS;
    }

    @Override
    public String toString() {
      return "WideVectorsFormat(maxDimensions=" + MAX_DIMENSIONS + ", " + delegate + ")";
    }
  }
}
