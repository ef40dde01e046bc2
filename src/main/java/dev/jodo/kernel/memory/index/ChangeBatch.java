package dev.jodo.kernel.memory.index;

import dev.jodo.kernel.memory.MemoryChange;
import dev.jodo.kernel.memory.MemoryRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Checks a page of the change feed before any of it touches the index, so that a bad change fails
 * the whole call and leaves the index as it was.
 */
final class ChangeBatch {
  private ChangeBatch() {}

  /**
   * The changes above {@code watermark}, in order. Changes at or below it are already in the index
   * (a page delivered twice, a replay after a crash) and are skipped: applying an older version of
   * a memory again would undo a newer one.
   *
   * @param indexedDimensions the dimension the index already holds for a model's vectors, or -1
   */
  static List<MemoryChange> fresh(
      List<MemoryChange> changes, long watermark, ToIntFunction<String> indexedDimensions) {
    if (changes == null) {
      throw new IllegalArgumentException("changes must not be null");
    }
    List<MemoryChange> fresh = new ArrayList<>(changes.size());
    Map<String, Integer> dimensions = new HashMap<>();
    long previous = Long.MIN_VALUE;
    for (MemoryChange change : changes) {
      if (change == null) {
        throw new IllegalArgumentException("changes must not contain null");
      }
      if (change.seq() < 1) {
        throw new IllegalArgumentException(
            "change seq %d (%s): seq must be positive".formatted(change.seq(), change.id()));
      }
      if (change.seq() <= previous) {
        throw new IllegalArgumentException(
            "changes must be in increasing seq order: seq %d (%s) follows seq %d"
                .formatted(change.seq(), change.id(), previous));
      }
      previous = change.seq();
      if (change.seq() <= watermark) {
        continue;
      }
      if (change.id() == null || change.id().isBlank()) {
        throw new IllegalArgumentException(
            "change seq %d: id must not be blank".formatted(change.seq()));
      }
      if (!change.deleted()) {
        String problem = recordProblem(change.id(), change.record());
        if (problem == null) {
          problem = dimensionProblem(change.record(), dimensions, indexedDimensions);
        }
        if (problem != null) {
          throw new IllegalArgumentException(
              "change seq %d (%s): %s".formatted(change.seq(), change.id(), problem));
        }
      }
      fresh.add(change);
    }
    return fresh;
  }

  private static String recordProblem(String id, MemoryRecord record) {
    if (!id.equals(record.id())) {
      return "record id " + record.id() + " differs from the change's id";
    }
    if (record.namespace().isBlank()) {
      return "namespace must not be blank";
    }
    if (record.model() == null || record.model().isBlank()) {
      return "model must not be blank";
    }
    for (String tag : record.tags()) {
      if (tag == null) {
        return "tags must not contain null";
      }
    }
    String problem = vectorProblem(record.embedding());
    return problem == null ? null : "embedding " + problem;
  }

  private static String dimensionProblem(
      MemoryRecord record, Map<String, Integer> inBatch, ToIntFunction<String> indexedDimensions) {
    int length = record.embedding().length;
    int expected = inBatch.computeIfAbsent(record.model(), m -> indexedDimensions.applyAsInt(m));
    if (expected == -1) {
      inBatch.put(record.model(), length);
      return null;
    }
    return expected == length
        ? null
        : "embedding has %d dimensions but model %s's vectors have %d"
            .formatted(length, record.model(), expected);
  }

  /**
   * Why a vector cannot be indexed or searched with cosine ("must not be empty", …), or null when
   * it can. Callers prefix the field's name.
   */
  static String vectorProblem(float[] vector) {
    if (vector == null || vector.length == 0) {
      return "must not be empty";
    }
    if (vector.length > MemoryCodec.MAX_DIMENSIONS) {
      return "has %d dimensions, more than the index's limit of %d"
          .formatted(vector.length, MemoryCodec.MAX_DIMENSIONS);
    }
    double norm = 0;
    for (float value : vector) {
      if (!Float.isFinite(value)) {
        return "must hold finite numbers only";
      }
      norm += (double) value * value;
    }
    return norm == 0 ? "must not be all zeros (cosine is undefined)" : null;
  }
}
