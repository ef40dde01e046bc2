package dev.jodo.kernel.memory;

import dev.jodo.kernel.memory.embed.Embedder;
import dev.jodo.kernel.platform.auth.Principal;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code jodo memory reindex}: re-embeds every live memory whose model is not the current
 * embedder's (after a change of {@code memory.embedder}), then optionally rebuilds this kernel's
 * index from the change feed. Progress goes to {@code progress}, one line at a time.
 */
final class Reindexer {
  private static final int BATCH = 32;

  private final MemoryStore store;
  private final IndexFollower follower;
  private final Embedder embedder;

  Reindexer(MemoryStore store, IndexFollower follower, Embedder embedder) {
    this.store = store;
    this.follower = follower;
    this.embedder = embedder;
  }

  record Result(long reembedded, long indexedUpTo) {}

  Result run(boolean rebuild, Consumer<String> progress) throws SQLException, InterruptedException {
    Principal admin = Principal.administrator();
    String model = embedder.model();
    long total = store.countWithOtherModel(model);
    progress.accept(total + " memories to re-embed with " + model);
    long done = 0;
    String after = "";
    while (true) {
      List<MemoryRecord> batch = store.embeddedWithOtherModel(model, after, BATCH);
      if (batch.isEmpty()) {
        break;
      }
      Embedder.Embedded embedded =
          embedder.embed(admin, batch.stream().map(MemoryRecord::content).toList());
      for (int i = 0; i < batch.size(); i++) {
        store.reembed(batch.get(i).id(), embedded.model(), embedded.vectors().get(i));
      }
      done += batch.size();
      after = batch.get(batch.size() - 1).id();
      progress.accept("re-embedded " + done + " of " + total);
      follower.nudge();
    }
    if (rebuild) {
      progress.accept("rebuilding this kernel's index from the change feed");
      follower.rebuild();
    }
    long last = store.lastSeq();
    while (!follower.awaitApplied(last, Duration.ofSeconds(5))) {
      progress.accept("indexing: change " + follower.appliedSeq() + " of " + last);
    }
    progress.accept("index up to date at change " + last);
    return new Result(done, last);
  }
}
