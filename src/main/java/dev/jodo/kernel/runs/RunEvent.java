package dev.jodo.kernel.runs;

/**
 * Seed 001's normalized event, as a workflow's argument: {@code type} names the workflow, {@code
 * conversationKey} its queue partition. {@code raw} is the JSON text of the optional {@code raw}
 * object (kept with the run, never logged); {@code userKey} and {@code raw} may be null.
 */
public record RunEvent(
    int schemaVersion,
    String type,
    String conversationKey,
    String userKey,
    String text,
    String raw) {}
