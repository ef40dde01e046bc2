package dev.jodo.kernel.memory.index;

import dev.jodo.kernel.memory.MemoryChange;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.index.ConcurrentMergeScheduler;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.store.AlreadyClosedException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.util.IOUtils;

/**
 * The writing side of {@link MemoryIndex}: one {@link IndexWriter}, the watermark it commits with,
 * and the near-real-time searchers it feeds. One thread at a time writes (a lock serializes apply,
 * commit, clear and close); any number of threads borrow searchers.
 */
final class IndexStore implements Closeable {
  static final String WATERMARK = "watermark";

  /** Work done with a borrowed searcher. */
  interface SearcherWork<T> {
    T run(IndexSearcher searcher) throws IOException;
  }

  private final Path path;
  private final Directory directory;
  private final IndexWriter writer;
  private final SearcherManager searchers;
  private final ExecutorService mergeThreads;
  private final ReentrantLock writes = new ReentrantLock();
  private volatile long watermark;
  private volatile boolean closed;

  private IndexStore(
      Path path, Directory directory, IndexWriterConfig config, ExecutorService mergeThreads)
      throws IOException {
    this.path = path;
    this.directory = directory;
    this.mergeThreads = mergeThreads;
    this.writer = new IndexWriter(directory, config);
    try {
      this.watermark = readWatermark(writer.getLiveCommitData());
      this.searchers = new SearcherManager(writer, null);
    } catch (IOException | RuntimeException e) {
      IOUtils.closeWhileHandlingException(writer);
      throw e;
    }
  }

  static IndexStore open(Path path, IndexSettings settings, Analyzer analyzer) {
    // Lucene merges a segment's HNSW graph with this many threads; without them a merge of a
    // million vectors takes minutes on one core while the others idle.
    ExecutorService mergeThreads =
        settings.mergeWorkers() == 1
            ? null
            : Executors.newFixedThreadPool(
                settings.mergeWorkers(),
                Thread.ofPlatform().name("memory-index-merge-", 1).daemon(true).factory());
    IndexWriterConfig config =
        new IndexWriterConfig(analyzer)
            .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
            .setCodec(new MemoryCodec(settings, mergeThreads))
            .setRAMBufferSizeMB(settings.ramBufferMb())
            // close() commits first itself; closing without a commit must lose what a crash loses.
            .setCommitOnClose(false);
    Directory directory = null;
    try {
      Files.createDirectories(path);
      directory = new MMapDirectory(path);
      return new IndexStore(path, directory, config, mergeThreads);
    } catch (IOException | RuntimeException e) {
      IOUtils.closeWhileHandlingException(directory);
      if (mergeThreads != null) {
        mergeThreads.shutdownNow();
      }
      throw new UncheckedIOException(
          "cannot open the memory index at %s: %s; the index is derived from Postgres, so deleting the directory and restarting rebuilds it"
              .formatted(path, e),
          e instanceof IOException io ? io : new IOException(e));
    }
  }

  long watermark() {
    return watermark;
  }

  void apply(List<MemoryChange> changes) {
    writes.lock();
    try {
      ensureOpen();
      List<MemoryChange> fresh = ChangeBatch.fresh(changes, watermark, this::indexedDimensions);
      if (fresh.isEmpty()) {
        return;
      }
      for (MemoryChange change : fresh) {
        Term id = MemoryDocuments.idTerm(change.id());
        if (change.deleted()) {
          writer.deleteDocuments(id);
        } else {
          writer.updateDocument(id, MemoryDocuments.toDocument(change.record()));
        }
      }
      watermark = fresh.getLast().seq();
      searchers.maybeRefreshBlocking();
    } catch (IOException e) {
      throw failure("cannot apply changes after seq " + watermark, e);
    } finally {
      writes.unlock();
    }
  }

  void commit() {
    writes.lock();
    try {
      ensureOpen();
      commitLocked();
    } catch (IOException e) {
      throw failure("cannot commit at seq " + watermark, e);
    } finally {
      writes.unlock();
    }
  }

  void clear() {
    writes.lock();
    try {
      ensureOpen();
      writer.deleteAll();
      watermark = 0;
      commitLocked();
      searchers.maybeRefreshBlocking();
    } catch (IOException e) {
      throw failure("cannot clear", e);
    } finally {
      writes.unlock();
    }
  }

  <T> T withSearcher(String what, SearcherWork<T> work) {
    ensureOpen();
    IndexSearcher searcher;
    try {
      searcher = searchers.acquire();
    } catch (AlreadyClosedException e) {
      throw new IllegalStateException("the memory index at " + path + " is closed", e);
    } catch (IOException e) {
      throw failure("cannot open a searcher", e);
    }
    try {
      return work.run(searcher);
    } catch (IOException e) {
      throw failure("cannot " + what, e);
    } finally {
      try {
        searchers.release(searcher);
      } catch (IOException e) {
        throw failure("cannot release a searcher", e);
      }
    }
  }

  /** Commits, then closes. Merges still running are abandoned; the next open redoes them. */
  @Override
  public void close() {
    writes.lock();
    try {
      if (closed) {
        return;
      }
      try {
        if (writer.isOpen()) {
          commitLocked();
        }
      } finally {
        closed = true;
        try {
          IOUtils.close(searchers, writer, directory);
        } finally {
          stopMergeThreads();
        }
      }
    } catch (IOException e) {
      throw failure("cannot close", e);
    } finally {
      writes.unlock();
    }
  }

  /** Closes without committing, leaving the directory as a crash would. */
  void abandon() throws IOException {
    writes.lock();
    try {
      closed = true;
      writer.rollback();
      IOUtils.close(searchers, directory);
    } finally {
      stopMergeThreads();
      writes.unlock();
    }
  }

  /** Waits until no merge is running or pending, then refreshes. */
  void awaitMerges() throws IOException, InterruptedException {
    writer.maybeMerge();
    ConcurrentMergeScheduler merges =
        (ConcurrentMergeScheduler) writer.getConfig().getMergeScheduler();
    do {
      merges.sync();
      Thread.sleep(10);
    } while (writer.hasPendingMerges() || merges.mergeThreadCount() > 0);
    searchers.maybeRefreshBlocking();
  }

  /**
   * Merges down to at most {@code maxSegments} segments, waits, then refreshes. Applies may run
   * meanwhile (their changes land in new segments), so this takes no write lock.
   */
  void forceMerge(int maxSegments) {
    ensureOpen();
    try {
      writer.forceMerge(maxSegments);
      searchers.maybeRefreshBlocking();
    } catch (IOException e) {
      throw failure("cannot merge to " + maxSegments + " segments", e);
    }
  }

  /** Segments in the current searcher. */
  int segmentCount() {
    return withSearcher("count segments", searcher -> searcher.getIndexReader().leaves().size());
  }

  private void stopMergeThreads() {
    if (mergeThreads != null) {
      mergeThreads.shutdownNow();
    }
  }

  private void commitLocked() throws IOException {
    writer.setLiveCommitData(Map.of(WATERMARK, Long.toString(watermark)).entrySet());
    writer.commit();
  }

  /** The dimension of the model's indexed vectors, or -1 when there are none. */
  private int indexedDimensions(String model) {
    String field = MemoryDocuments.vectorField(model);
    return withSearcher(
        "read field infos",
        searcher -> {
          for (LeafReaderContext leaf : searcher.getIndexReader().leaves()) {
            FieldInfo info = leaf.reader().getFieldInfos().fieldInfo(field);
            if (info != null && info.hasVectorValues()) {
              return info.getVectorDimension();
            }
          }
          return -1;
        });
  }

  private static long readWatermark(Iterable<Map.Entry<String, String>> commitData)
      throws IOException {
    if (commitData != null) {
      for (Map.Entry<String, String> entry : commitData) {
        if (entry.getKey().equals(WATERMARK)) {
          try {
            return Long.parseLong(entry.getValue());
          } catch (NumberFormatException e) {
            throw new IOException("the last commit's watermark is not a number: " + entry, e);
          }
        }
      }
    }
    return 0;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the memory index at " + path + " is closed");
    }
  }

  private UncheckedIOException failure(String what, IOException e) {
    return new UncheckedIOException("memory index at %s: %s: %s".formatted(path, what, e), e);
  }
}
