package dev.jodo.kernel.runs;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * A conversation's session in {@code session_messages}: the user's messages and the agent's
 * replies, oldest first, and at most one live summary of what came before them.
 *
 * <p>A run sees the session as it was when the run began, however often it is replayed: rows the
 * run itself appended, or the summary it wrote, are left out, and rows it compacted are still in.
 * (The runs of one conversation go one at a time, so nothing else changes the session meanwhile.)
 */
final class Sessions {
  /** The most rows one run reads; compaction normally keeps a session far below it. */
  static final int MAX_ROWS = 400;

  private final DataSource dataSource;

  Sessions(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** One stored message: its row id, its role (user, assistant or summary) and its text. */
  record Entry(long id, String role, String content) {}

  /** The session as the run {@code runId} sees it. */
  record Session(Optional<String> summary, List<Entry> messages) {}

  /**
   * The session of the conversation as it was when the run {@code runId} began, with the run's own
   * messages before position {@code seqBefore} (those of an earlier agent step of the same run).
   */
  Session load(String conversationKey, String runId, int seqBefore) {
    List<Entry> rows = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                """
                SELECT id, role, content FROM session_messages
                WHERE conversation_key = ?
                  AND (run_id <> ? OR seq BETWEEN 0 AND ?)
                  AND (compacted_by IS NULL OR compacted_by = ?)
                ORDER BY id DESC LIMIT ?
                """)) {
      ps.setString(1, conversationKey);
      ps.setString(2, runId);
      ps.setInt(3, seqBefore - 1);
      ps.setString(4, runId);
      ps.setInt(5, MAX_ROWS);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Entry(rs.getLong(1), rs.getString(2), rs.getString(3)));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot load the session: " + e.getMessage(), e);
    }
    Collections.reverse(rows);
    Optional<String> summary = Optional.empty();
    List<Entry> messages = new ArrayList<>();
    for (Entry row : rows) {
      if (row.role().equals("summary")) {
        summary = Optional.of(row.content());
      } else {
        messages.add(row);
      }
    }
    return new Session(summary, messages);
  }

  /**
   * Replaces the messages up to {@code upToId}, and the summary before them, with {@code summary},
   * for the run {@code runId}; a second call for the same run changes nothing.
   */
  void compact(String runId, String conversationKey, String summary, long upToId) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                """
                WITH summarized AS (
                  INSERT INTO session_messages (conversation_key, run_id, seq, role, content)
                  VALUES (?, ?, -1, 'summary', ?)
                  ON CONFLICT (run_id, seq) DO NOTHING)
                UPDATE session_messages SET compacted_by = ?
                WHERE conversation_key = ? AND compacted_by IS NULL AND run_id <> ?
                  AND (id <= ? OR role = 'summary')
                """)) {
      ps.setString(1, conversationKey);
      ps.setString(2, runId);
      ps.setString(3, summary);
      ps.setString(4, runId);
      ps.setString(5, conversationKey);
      ps.setString(6, runId);
      ps.setLong(7, upToId);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot compact the session: " + e.getMessage(), e);
    }
  }

  /**
   * Appends the run's message and its reply at positions {@code seq} and {@code seq + 1}, and, if
   * {@code finish}, marks the run finished for its conversation (the next run may start), in one
   * statement; a second call for the same run and positions changes nothing.
   */
  void append(
      String runId, String conversationKey, String text, String reply, int seq, boolean finish) {
    String insert =
        """
        INSERT INTO session_messages (conversation_key, run_id, seq, role, content)
        VALUES (?, ?, ?, 'user', ?), (?, ?, ?, 'assistant', ?)
        ON CONFLICT (run_id, seq) DO NOTHING
        """;
    String sql =
        finish
            ? "WITH appended AS ("
                + insert
                + ") UPDATE conversation_runs SET finished_at = now()"
                + " WHERE run_id = ? AND finished_at IS NULL"
            : insert;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, conversationKey);
      ps.setString(2, runId);
      ps.setInt(3, seq);
      ps.setString(4, text);
      ps.setString(5, conversationKey);
      ps.setString(6, runId);
      ps.setInt(7, seq + 1);
      ps.setString(8, reply);
      if (finish) {
        ps.setString(9, runId);
      }
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot append to the session: " + e.getMessage(), e);
    }
  }
}
