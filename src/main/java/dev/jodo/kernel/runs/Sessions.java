package dev.jodo.kernel.runs;

import dev.jodo.kernel.gateway.provider.ChatMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.sql.DataSource;

/** A conversation's session: its messages in {@code session_messages}, oldest first. */
final class Sessions {
  private final DataSource dataSource;

  Sessions(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** The newest {@code limit} messages of the conversation, oldest first. */
  List<ChatMessage> load(String conversationKey, int limit) {
    List<ChatMessage> messages = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT role, content FROM session_messages WHERE conversation_key = ?"
                    + " ORDER BY id DESC LIMIT ?")) {
      ps.setString(1, conversationKey);
      ps.setInt(2, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String role = rs.getString(1);
          String content = rs.getString(2);
          messages.add(
              "assistant".equals(role)
                  ? ChatMessage.assistant(content)
                  : ChatMessage.user(content));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot load the session: " + e.getMessage(), e);
    }
    Collections.reverse(messages);
    return messages;
  }

  /**
   * Appends the run's message and its reply, and marks the run finished for its conversation (the
   * next run may start), in one statement; a second call for the same run changes nothing.
   */
  void append(String runId, String conversationKey, String text, String reply) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                """
                WITH appended AS (
                  INSERT INTO session_messages (conversation_key, run_id, seq, role, content)
                  VALUES (?, ?, 0, 'user', ?), (?, ?, 1, 'assistant', ?)
                  ON CONFLICT (run_id, seq) DO NOTHING)
                UPDATE conversation_runs SET finished_at = now()
                WHERE run_id = ? AND finished_at IS NULL
                """)) {
      ps.setString(1, conversationKey);
      ps.setString(2, runId);
      ps.setString(3, text);
      ps.setString(4, conversationKey);
      ps.setString(5, runId);
      ps.setString(6, reply);
      ps.setString(7, runId);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot append to the session: " + e.getMessage(), e);
    }
  }
}
