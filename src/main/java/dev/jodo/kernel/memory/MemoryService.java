package dev.jodo.kernel.memory;

import dev.jodo.kernel.memory.embed.Embedder;
import dev.jodo.kernel.memory.index.MemoryIndex;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.http.ApiException;
import java.math.BigDecimal;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Stores, searches and forgets memories. Postgres is the truth; this kernel's Lucene index follows
 * it ({@link IndexFollower}). Each agent token sees its own namespace; the admin token may name any
 * (default: the genesis agent's).
 */
public final class MemoryService {
  static final int MAX_CONTENT_BYTES = 32 * 1024;
  static final int MAX_TAGS = 32;
  static final int MAX_TAG_LENGTH = 64;
  static final int MAX_LIMIT = 100;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final MemoryStore store;
  private final MemoryIndex index;
  private final IndexFollower follower;
  private final Embedder embedder;
  private final String defaultNamespace;
  private final Clock clock;

  MemoryService(
      MemoryStore store,
      MemoryIndex index,
      IndexFollower follower,
      Embedder embedder,
      String defaultNamespace,
      Clock clock) {
    this.store = store;
    this.index = index;
    this.follower = follower;
    this.embedder = embedder;
    this.defaultNamespace = defaultNamespace;
    this.clock = clock;
  }

  public record Stored(String id, int dimensions, BigDecimal cost) {}

  public Stored store(
      Principal caller,
      Optional<String> namespace,
      String content,
      List<String> tags,
      String source) {
    String space = namespace(caller, namespace);
    validateContent(content);
    List<String> cleanTags = validateTags(tags, "tags");
    if (source != null && source.length() > 100) {
      throw ApiException.invalidField("source", "longer than 100 characters; shorten it");
    }
    Embedder.Embedded embedded = embedder.embed(caller, List.of(content));
    float[] vector = embedded.vectors().get(0);
    String id = "mem_" + HexFormat.of().formatHex(randomBytes(8));
    MemoryRecord record =
        new MemoryRecord(
            id, space, content, cleanTags, source, clock.instant(), embedded.model(), vector);
    long seq = sql(() -> store.insert(record));
    // Read your own writes: the memory is searchable on this kernel when store returns.
    awaitSearchable(seq);
    return new Stored(id, vector.length, embedded.cost());
  }

  public record Found(List<MemoryIndex.Hit> hits, BigDecimal cost) {}

  public Found search(
      Principal caller,
      Optional<String> namespace,
      String query,
      int limit,
      List<String> tags,
      Optional<Double> minSimilarity,
      Optional<String> source,
      MemoryIndex.Mode mode) {
    String space = namespace(caller, namespace);
    if (query == null || query.isBlank()) {
      throw ApiException.invalidField("query", "missing or empty; send the text to search for");
    }
    if (query.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_CONTENT_BYTES) {
      throw ApiException.invalidField("query", "longer than 32 KiB; shorten it");
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw ApiException.invalidField("limit", limit + " is outside 1 to " + MAX_LIMIT);
    }
    minSimilarity.ifPresent(
        min -> {
          if (min < -1 || min > 1 || min.isNaN()) {
            throw ApiException.invalidField("min_similarity", min + " is outside -1 to 1");
          }
        });
    List<String> cleanTags = validateTags(tags, "tags");
    Set<String> models = index.models(space);
    if (models.isEmpty()) {
      return new Found(List.of(), BigDecimal.ZERO); // nothing to find: no need to embed the query
    }
    if (models.size() > 1) {
      throw ApiException.conflict(
          "namespace '"
              + space
              + "' holds memories embedded with different models ("
              + String.join(", ", models.stream().sorted().toList())
              + "); their vectors cannot be compared. Run `./jodo memory reindex` to re-embed"
              + " them with "
              + embedder.model());
    }
    Embedder.Embedded embedded = embedder.embed(caller, List.of(query));
    String model = models.isEmpty() ? embedded.model() : models.iterator().next();
    if (!models.isEmpty() && !model.equals(embedded.model())) {
      throw ApiException.conflict(
          "namespace '"
              + space
              + "' is embedded with "
              + model
              + " but the kernel now embeds with "
              + embedded.model()
              + "; run `./jodo memory reindex`");
    }
    List<MemoryIndex.Hit> hits =
        index.search(
            new MemoryIndex.Query(
                space,
                model,
                embedded.vectors().get(0),
                query,
                Set.copyOf(cleanTags),
                source,
                limit,
                minSimilarity,
                mode));
    return new Found(hits, embedded.cost());
  }

  public MemoryRecord get(Principal caller, String id) {
    MemoryRecord record =
        sql(() -> store.find(id))
            .orElseThrow(() -> ApiException.notFound("no memory with id " + id));
    allow(caller, record.namespace());
    return record;
  }

  /**
   * The newest {@code limit} (1 to 100) live memories the caller may read: an agent's own, or for
   * the admin those of {@code namespace}, or of every namespace when it is empty.
   */
  public List<MemoryRecord> recent(Principal caller, Optional<String> namespace, int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw ApiException.invalidField("limit", limit + " is outside 1 to " + MAX_LIMIT);
    }
    Optional<String> space =
        caller.admin() && namespace.filter(s -> !s.isBlank()).isEmpty()
            ? Optional.empty()
            : Optional.of(namespace(caller, namespace));
    return sql(() -> store.recent(space, limit));
  }

  public void delete(Principal caller, String id) {
    String space =
        sql(() -> store.namespaceOf(id))
            .orElseThrow(() -> ApiException.notFound("no memory with id " + id));
    allow(caller, space);
    sql(
        () ->
            store.forget(
                new MemoryStore.Forget(
                    space,
                    Optional.of(id),
                    List.of(),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty())));
    awaitSearchable();
  }

  public int forget(
      Principal caller,
      Optional<String> namespace,
      List<String> tags,
      Optional<String> source,
      Optional<java.time.Instant> from,
      Optional<java.time.Instant> to) {
    String space = namespace(caller, namespace);
    List<String> cleanTags = validateTags(tags, "tags");
    if (cleanTags.isEmpty() && source.isEmpty() && from.isEmpty() && to.isEmpty()) {
      throw ApiException.badRequest(
          "say what to forget: tags, source, from and/or to (forgetting everything needs at least"
              + " one of them, e.g. from: \"1970-01-01T00:00:00Z\")");
    }
    int forgotten =
        sql(
            () ->
                store.forget(
                    new MemoryStore.Forget(space, Optional.empty(), cleanTags, source, from, to)));
    awaitSearchable();
    return forgotten;
  }

  public void export(Principal caller, Optional<String> namespace, MemoryStore.RecordSink sink)
      throws java.io.IOException {
    String space = namespace(caller, namespace);
    try {
      store.export(space, sink);
    } catch (SQLException e) {
      throw new IllegalStateException("export failed: " + e.getMessage(), e);
    }
  }

  /** The embedder's model: what every namespace must be embedded with to be searchable. */
  public String model() {
    return embedder.model();
  }

  /** Deleted memories vanish from search at once: wait until this kernel's index has them. */
  private void awaitSearchable() {
    try {
      awaitSearchable(store.lastSeq());
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private void awaitSearchable(long seq) {
    try {
      if (!follower.awaitApplied(seq, java.time.Duration.ofSeconds(10))) {
        throw new IllegalStateException("the memory index did not catch up within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private String namespace(Principal caller, Optional<String> requested) {
    if (caller.admin()) {
      String space = requested.filter(s -> !s.isBlank()).orElse(defaultNamespace);
      if (!space.matches("[a-z0-9][a-z0-9_-]{0,49}")) {
        throw ApiException.invalidField("namespace", "'" + space + "' is not an agent name");
      }
      return space;
    }
    requested.filter(s -> !s.isBlank()).ifPresent(space -> allow(caller, space));
    return caller.name();
  }

  private static void allow(Principal caller, String namespace) {
    if (!caller.admin() && !caller.name().equals(namespace)) {
      throw ApiException.forbidden(
          "agent '" + caller.name() + "' may not read or write namespace '" + namespace + "'");
    }
  }

  private static void validateContent(String content) {
    if (content == null || content.isBlank()) {
      throw ApiException.invalidField("content", "missing or empty; send the text to remember");
    }
    int bytes = content.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (bytes > MAX_CONTENT_BYTES) {
      throw ApiException.invalidField(
          "content", bytes + " bytes is over the 32 KiB limit; split it into smaller memories");
    }
  }

  private static List<String> validateTags(List<String> tags, String field) {
    if (tags == null) {
      return List.of();
    }
    if (tags.size() > MAX_TAGS) {
      throw ApiException.invalidField(field, tags.size() + " tags; at most " + MAX_TAGS);
    }
    for (int i = 0; i < tags.size(); i++) {
      String tag = tags.get(i);
      if (tag == null || tag.isBlank()) {
        throw ApiException.invalidField(field + "[" + i + "]", "empty tag");
      }
      if (tag.length() > MAX_TAG_LENGTH) {
        throw ApiException.invalidField(
            field + "[" + i + "]", "longer than " + MAX_TAG_LENGTH + " characters");
      }
    }
    return tags.stream().map(String::strip).distinct().toList();
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  private interface SqlCall<T> {
    T call() throws SQLException;
  }

  private static <T> T sql(SqlCall<T> call) {
    try {
      return call.call();
    } catch (SQLException e) {
      throw new IllegalStateException("memory store: " + e.getMessage(), e);
    }
  }
}
