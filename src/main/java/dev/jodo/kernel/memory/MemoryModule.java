package dev.jodo.kernel.memory;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.gateway.Gateway;
import dev.jodo.kernel.memory.embed.Embedder;
import dev.jodo.kernel.memory.index.MemoryIndex;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.http.Routes;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the memory feature for one kernel: the embedder chosen by {@code memory.embedder} (see
 * {@link EmbedderLoader}), the Lucene index under {@code JODO_HOME/index} following Postgres, the
 * service and its routes.
 */
public final class MemoryModule implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MemoryModule.class);

  private final Embedder embedder;
  private final MemoryIndex index;
  private final IndexFollower follower;
  private final MemoryService service;
  private final List<Routes> routes;

  public MemoryModule(
      KernelConfig config,
      DataSource dataSource,
      EmbedderLoader embedders,
      Gateway gateway,
      Clock clock,
      ObjectMapper mapper) {
    MemoryStore store = new MemoryStore(dataSource);
    this.index = MemoryIndex.open(config.home().resolve("index"));
    try {
      long last = store.lastSeq();
      if (index.watermark() > last) {
        // The database is older than the index (restored or replaced): start over from it.
        log.warn(
            "memory index is ahead of the database (change {} > {}); rebuilding it",
            index.watermark(),
            last);
        index.clear();
      }
    } catch (SQLException e) {
      index.close();
      throw new IllegalStateException("memory store: " + e.getMessage(), e);
    }
    // Taken last: until then the loader still owns it and closes it if the start fails.
    this.embedder = embedders.take(gateway);
    this.follower = new IndexFollower(store, index);
    this.service = new MemoryService(store, index, follower, embedder, config.genesisName(), clock);
    this.routes =
        List.of(new MemoryRoutes(service, new Reindexer(store, follower, embedder), mapper));
  }

  public MemoryService service() {
    return service;
  }

  public List<Routes> routes() {
    return routes;
  }

  @Override
  public void close() {
    follower.close();
    index.close();
    embedder.close();
  }
}
