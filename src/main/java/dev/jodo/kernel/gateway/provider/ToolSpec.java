package dev.jodo.kernel.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;

/** A function the model may call; {@code parameters} is its JSON Schema, passed through as is. */
public record ToolSpec(String name, String description, JsonNode parameters) {}
