package dev.jodo.kernel.platform.http;

import io.javalin.http.Context;

/** Query parameters read with one rule for errors: a 400 that names the parameter and its range. */
public final class QueryParams {
  private QueryParams() {}

  /**
   * {@code ?name=N} as a whole number from {@code min} to {@code max}; absent → {@code fallback}.
   */
  public static int integer(Context ctx, String name, int fallback, int min, int max) {
    String text = ctx.queryParam(name);
    if (text == null) {
      return fallback;
    }
    int value;
    try {
      value = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      value = min - 1;
    }
    if (value < min || value > max) {
      throw ApiException.invalidField(
          name, "'" + text + "' is not allowed; use a whole number from " + min + " to " + max);
    }
    return value;
  }
}
