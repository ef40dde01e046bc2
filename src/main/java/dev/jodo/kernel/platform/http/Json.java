package dev.jodo.kernel.platform.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.javalin.http.Context;
import java.util.stream.Collectors;

/**
 * The kernel's JSON conventions: snake_case names (seed 000's wire format), ISO-8601 instants, and
 * request bodies whose problems become a 400 naming the line, column or field.
 */
public final class Json {
  private Json() {}

  public static ObjectMapper newMapper() {
    // Jackson's default buffer pool is per thread, which recycles nothing on virtual threads
    // (one per request): a shared pool spares every request its parser and generator buffers.
    JsonFactory factory =
        JsonFactory.builder().recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build();
    return new ObjectMapper(factory)
        .registerModule(new JavaTimeModule())
        .registerModule(new Jdk8Module())
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
  }

  /** The body as a JSON object; 400 if it is empty, malformed or not an object. */
  public static JsonNode readObject(Context ctx, ObjectMapper mapper) {
    String body = ctx.body();
    if (body.isBlank()) {
      throw ApiException.badRequest("request body is empty; send a JSON object");
    }
    JsonNode node;
    try {
      node = mapper.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest(describeSyntax(e));
    }
    if (node == null || !node.isObject()) {
      throw ApiException.badRequest("request body must be a JSON object");
    }
    return node;
  }

  /** The body bound to {@code type}; 400 naming the field whose value has the wrong type. */
  public static <T> T read(Context ctx, ObjectMapper mapper, Class<T> type) {
    JsonNode node = readObject(ctx, mapper);
    try {
      return mapper.treeToValue(node, type);
    } catch (UnrecognizedPropertyException e) {
      throw ApiException.invalidField(e.getPropertyName(), "unknown field; remove it");
    } catch (MismatchedInputException e) {
      throw ApiException.invalidField(
          fieldPath(e), "expected " + expected(e.getTargetType()) + "; fix its type");
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest(describeSyntax(e));
    } catch (IllegalArgumentException e) {
      // Records validate themselves in their compact constructors with a field-naming message.
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw ApiException.badRequest(cause.getMessage());
    }
  }

  private static String describeSyntax(JsonProcessingException e) {
    String where =
        e.getLocation() == null
            ? ""
            : " at line "
                + e.getLocation().getLineNr()
                + ", column "
                + e.getLocation().getColumnNr();
    return "malformed JSON" + where + ": " + e.getOriginalMessage();
  }

  private static String fieldPath(MismatchedInputException e) {
    String path =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."))
            .replace(".[", "[");
    return path.isEmpty() ? "body" : path;
  }

  private static String expected(Class<?> type) {
    if (type == null) {
      return "another type";
    }
    if (Number.class.isAssignableFrom(type) || (type.isPrimitive() && type != boolean.class)) {
      return "a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == String.class) {
      return "a string";
    }
    if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "a list";
    }
    return "an object";
  }
}
