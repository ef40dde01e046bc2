package dev.jodo.kernel.memory;

import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The {@code memories} table, the single source of truth, and its change feed ({@code
 * V3__memory_feed.sql}). Writes serialize on one advisory lock so that {@code seq} order is commit
 * order; each write is one statement, one round trip.
 */
final class MemoryStore {
  // pg_advisory_xact_lock key for the feed: "jodomem" as a number, fixed forever.
  private static final long FEED_LOCK = 0x6a6f646f6d656dL;
  private static final String COLUMNS =
      "id, namespace, content, tags, source, created_at, embedding_model, embedding, deleted_at, seq";

  private final DataSource dataSource;

  MemoryStore(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Inserts a memory and returns its change seq. */
  long insert(MemoryRecord record) throws SQLException {
    String sql =
        """
        WITH feed AS (SELECT pg_advisory_xact_lock(?))
        INSERT INTO memories
            (id, namespace, content, tags, source, created_at, embedding_model, embedding,
             embedding_dims, seq)
        SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, nextval('memories_seq') FROM feed
        RETURNING seq
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, FEED_LOCK);
      ps.setString(2, record.id());
      ps.setString(3, record.namespace());
      ps.setString(4, record.content());
      ps.setArray(5, c.createArrayOf("text", record.tags().toArray()));
      ps.setString(6, record.source());
      ps.setTimestamp(7, Timestamp.from(record.createdAt()));
      ps.setString(8, record.model());
      ps.setArray(9, c.createArrayOf("float4", boxed(record.embedding())));
      ps.setInt(10, record.embedding().length);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Replaces a live memory's embedding (reindex); a new seq tells every index. */
  boolean reembed(String id, String model, float[] embedding) throws SQLException {
    String sql =
        """
        WITH feed AS (SELECT pg_advisory_xact_lock(?))
        UPDATE memories SET embedding_model = ?, embedding = ?, embedding_dims = ?,
                            seq = nextval('memories_seq')
          FROM feed
         WHERE id = ? AND deleted_at IS NULL
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, FEED_LOCK);
      ps.setString(2, model);
      ps.setArray(3, c.createArrayOf("float4", boxed(embedding)));
      ps.setInt(4, embedding.length);
      ps.setString(5, id);
      return ps.executeUpdate() == 1;
    }
  }

  Optional<MemoryRecord> find(String id) throws SQLException {
    String sql = "SELECT " + COLUMNS + " FROM memories WHERE id = ? AND deleted_at IS NULL";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(record(rs)) : Optional.empty();
      }
    }
  }

  /** Which namespace a memory is in, live or not; empty if no such id was ever stored. */
  Optional<String> namespaceOf(String id) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT namespace FROM memories WHERE id = ? AND deleted_at IS NULL")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  /** What to forget: every condition given must hold; at least one must be given. */
  record Forget(
      String namespace,
      Optional<String> id,
      List<String> allTags,
      Optional<String> source,
      Optional<Instant> from,
      Optional<Instant> to) {}

  /** Tombstones the matching live memories (content and vectors wiped); returns how many. */
  int forget(Forget what) throws SQLException {
    String sql =
        """
        WITH feed AS (SELECT pg_advisory_xact_lock(?))
        UPDATE memories
           SET deleted_at = now(), seq = nextval('memories_seq'), content = NULL,
               embedding = NULL, tags = '{}', source = NULL
          FROM feed
         WHERE namespace = ? AND deleted_at IS NULL
           AND (?::text IS NULL OR id = ?)
           AND tags @> ?::text[]
           AND (?::text IS NULL OR source = ?)
           AND (?::timestamptz IS NULL OR created_at >= ?)
           AND (?::timestamptz IS NULL OR created_at < ?)
        """;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, FEED_LOCK);
      ps.setString(2, what.namespace());
      ps.setString(3, what.id().orElse(null));
      ps.setString(4, what.id().orElse(null));
      ps.setArray(5, c.createArrayOf("text", what.allTags().toArray()));
      ps.setString(6, what.source().orElse(null));
      ps.setString(7, what.source().orElse(null));
      ps.setTimestamp(8, what.from().map(Timestamp::from).orElse(null));
      ps.setTimestamp(9, what.from().map(Timestamp::from).orElse(null));
      ps.setTimestamp(10, what.to().map(Timestamp::from).orElse(null));
      ps.setTimestamp(11, what.to().map(Timestamp::from).orElse(null));
      return ps.executeUpdate();
    }
  }

  /** Changes after {@code seq}, in order, at most {@code limit}. */
  List<MemoryChange> changesAfter(long seq, int limit) throws SQLException {
    String sql = "SELECT " + COLUMNS + " FROM memories WHERE seq > ? ORDER BY seq LIMIT ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, seq);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        List<MemoryChange> changes = new ArrayList<>();
        while (rs.next()) {
          boolean deleted = rs.getTimestamp("deleted_at") != null;
          changes.add(
              new MemoryChange(rs.getLong("seq"), rs.getString("id"), deleted ? null : record(rs)));
        }
        return changes;
      }
    }
  }

  long lastSeq() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(seq), 0) FROM memories");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Live memories whose embedding model differs from {@code model}, for reindexing. */
  List<MemoryRecord> embeddedWithOtherModel(String model, String afterId, int limit)
      throws SQLException {
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM memories WHERE deleted_at IS NULL AND embedding_model IS DISTINCT FROM ?"
            + " AND id > ? ORDER BY id LIMIT ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, model);
      ps.setString(2, afterId);
      ps.setInt(3, limit);
      try (ResultSet rs = ps.executeQuery()) {
        List<MemoryRecord> records = new ArrayList<>();
        while (rs.next()) {
          records.add(record(rs));
        }
        return records;
      }
    }
  }

  long countWithOtherModel(String model) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM memories WHERE deleted_at IS NULL AND embedding_model IS DISTINCT FROM ?")) {
      ps.setString(1, model);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Streams a namespace's live memories, oldest first, to {@code sink} without loading all. */
  void export(String namespace, RecordSink sink) throws SQLException, IOException {
    String sql =
        "SELECT "
            + COLUMNS
            + " FROM memories WHERE namespace = ? AND deleted_at IS NULL ORDER BY created_at, id";
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false); // a cursor: rows are fetched in batches, not all at once
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setFetchSize(500);
        ps.setString(1, namespace);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sink.accept(record(rs));
          }
        }
      } finally {
        c.rollback();
        c.setAutoCommit(true);
      }
    }
  }

  /**
   * The newest {@code limit} live memories, of one namespace or of all, without their embeddings
   * (an empty vector).
   */
  List<MemoryRecord> recent(Optional<String> namespace, int limit) throws SQLException {
    String sql =
        "SELECT id, namespace, content, tags, source, created_at, embedding_model,"
            + " NULL::real[] AS embedding FROM memories WHERE deleted_at IS NULL"
            + (namespace.isPresent() ? " AND namespace = ?" : "")
            + " ORDER BY created_at DESC, id DESC LIMIT ?";
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      if (namespace.isPresent()) {
        ps.setString(i++, namespace.get());
      }
      ps.setInt(i, limit);
      List<MemoryRecord> records = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          records.add(record(rs));
        }
      }
      return records;
    }
  }

  interface RecordSink {
    void accept(MemoryRecord record) throws IOException;
  }

  private static MemoryRecord record(ResultSet rs) throws SQLException {
    Array tags = rs.getArray("tags");
    Array embedding = rs.getArray("embedding");
    return new MemoryRecord(
        rs.getString("id"),
        rs.getString("namespace"),
        rs.getString("content"),
        tags == null
            ? List.of()
            : Arrays.stream((Object[]) tags.getArray()).map(String::valueOf).toList(),
        rs.getString("source"),
        rs.getTimestamp("created_at").toInstant(),
        rs.getString("embedding_model"),
        embedding == null ? new float[0] : unboxed((Object[]) embedding.getArray()));
  }

  private static Float[] boxed(float[] values) {
    Float[] boxed = new Float[values.length];
    for (int i = 0; i < values.length; i++) {
      boxed[i] = values[i];
    }
    return boxed;
  }

  private static float[] unboxed(Object[] values) {
    float[] result = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = ((Number) values[i]).floatValue();
    }
    return result;
  }
}
