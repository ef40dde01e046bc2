package dev.jodo.kernel.gateway.provider;

/** A function call the model asked for; {@code argumentsJson} is the JSON text of its arguments. */
public record ToolCall(String id, String name, String argumentsJson) {}
