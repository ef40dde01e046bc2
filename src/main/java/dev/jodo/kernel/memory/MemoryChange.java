package dev.jodo.kernel.memory;

/**
 * One entry of the memories change feed, in {@code seq} order: a memory written (with its record)
 * or deleted ({@code record} null). Each kernel's index applies the feed to stay equal to Postgres.
 */
public record MemoryChange(long seq, String id, MemoryRecord record) {
  public boolean deleted() {
    return record == null;
  }
}
