package dev.jodo.kernel.memory;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One live memory as Postgres holds it: the text, its tags and source, which namespace (agent) it
 * belongs to, and its embedding with the model that made it.
 */
public record MemoryRecord(
    String id,
    String namespace,
    String content,
    List<String> tags,
    String source,
    Instant createdAt,
    String model,
    float[] embedding) {

  public MemoryRecord {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(content, "content");
    tags = tags == null ? List.of() : List.copyOf(tags);
  }
}
