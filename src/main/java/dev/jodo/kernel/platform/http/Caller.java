package dev.jodo.kernel.platform.http;

import dev.jodo.kernel.platform.auth.Principal;
import io.javalin.http.Context;

/** Handlers ask who is calling through this, never by reading headers themselves. */
public final class Caller {
  private Caller() {}

  public static Principal of(Context ctx) {
    return RequestAuth.principal(ctx);
  }
}
