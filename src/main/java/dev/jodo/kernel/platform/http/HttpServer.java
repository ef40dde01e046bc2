package dev.jodo.kernel.platform.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jodo.kernel.platform.auth.TokenService;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's HTTP front: Javalin on virtual threads with bearer auth, one error shape, request
 * logging and metrics. Features add endpoints through {@link Routes}.
 */
public final class HttpServer {
  public static final long MAX_BODY_BYTES = 1024 * 1024;
  public static final String REQUEST_ID = "X-Request-Id";
  private static final Pattern SAFE_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
  private static final Logger log = LoggerFactory.getLogger("dev.jodo.kernel.http");

  private final Javalin app;
  private final Duration drainTimeout;
  private final String host;
  private final int requestedPort;

  public HttpServer(
      String host,
      int port,
      Duration drainTimeout,
      TokenService tokens,
      MeterRegistry metrics,
      ObjectMapper mapper,
      List<Routes> routes) {
    this.host = host;
    this.requestedPort = port;
    this.drainTimeout = drainTimeout;
    RequestAuth auth = new RequestAuth(tokens);
    this.app =
        Javalin.create(
            config -> {
              config.startup.showJavalinBanner = false;
              config.startup.showOldJavalinVersionWarning = false;
              config.concurrency.useVirtualThreads = true;
              config.http.prefer405over404 = true;
              config.http.maxRequestSize = MAX_BODY_BYTES;
              config.http.defaultContentType = "application/json";
              config.jsonMapper(new JavalinJackson(mapper, true));
              config.jetty.modifyServer(server -> server.setStopTimeout(drainTimeout.toMillis()));
              config.requestLogger.http((ctx, ms) -> logRequest(ctx, ms, metrics));

              config.routes.before(HttpServer::assignRequestId);
              config.routes.before(HttpServer::rejectOversizedBody);
              config.routes.beforeMatched(auth::check);
              config.routes.exception(ApiException.class, HttpServer::renderApiException);
              config.routes.exception(
                  HttpResponseException.class, HttpServer::renderJavalinException);
              config.routes.exception(Exception.class, HttpServer::renderUnexpected);
              for (Routes feature : routes) {
                feature.register(config.routes);
              }
            });
  }

  public HttpServer start() {
    app.start(host, requestedPort);
    return this;
  }

  /** The bound port (differs from the requested one when that was 0). */
  public int port() {
    return app.port();
  }

  /** Stops accepting, lets in-flight requests finish for up to the drain timeout, then stops. */
  public void stop() {
    try {
      app.stop();
    } catch (RuntimeException e) {
      // Jetty gives up after the drain timeout; what is still open is cut, which is the point.
      log.warn("HTTP server stopped after the {} drain timeout: {}", drainTimeout, e.toString());
    }
  }

  private static void assignRequestId(Context ctx) {
    String id = ctx.header(REQUEST_ID);
    if (id == null || !SAFE_REQUEST_ID.matcher(id).matches()) {
      id = UUID.randomUUID().toString();
    }
    ctx.attribute(REQUEST_ID, id);
    ctx.header(REQUEST_ID, id);
  }

  private static void rejectOversizedBody(Context ctx) {
    if (ctx.req().getContentLengthLong() > MAX_BODY_BYTES) {
      throw new ApiException(
          413,
          "payload_too_large",
          "request body is "
              + ctx.req().getContentLengthLong()
              + " bytes; the limit is "
              + MAX_BODY_BYTES
              + " bytes (1 MiB)");
    }
  }

  private static void renderApiException(ApiException e, Context ctx) {
    e.retryAfter()
        .ifPresent(d -> ctx.header("Retry-After", Long.toString(Math.max(1, d.toSeconds()))));
    writeError(ctx, e.status(), e.code(), e.getMessage());
  }

  private static void renderJavalinException(HttpResponseException e, Context ctx) {
    int status = e.getStatus();
    switch (status) {
      case 404 -> {
        String message = "no route " + ctx.method().name() + " " + ctx.path();
        if (wantsHtml(ctx)) {
          writeHtmlError(ctx, 404, "Not found", message);
        } else {
          writeError(ctx, 404, "not_found", message);
        }
      }
      case 405 -> {
        Map<String, String> details = e.getDetails();
        // Javalin names the detail differently when the client accepts HTML.
        String allowed =
            details.getOrDefault("availableMethods", details.getOrDefault("Available methods", ""));
        if (!allowed.isEmpty()) {
          ctx.header("Allow", allowed.replace(" ", ""));
        }
        String message =
            ctx.method().name()
                + " is not allowed on "
                + ctx.path()
                + (allowed.isEmpty() ? "" : "; use " + allowed);
        if (wantsHtml(ctx)) {
          writeHtmlError(ctx, 405, "Not allowed", message);
        } else {
          writeError(ctx, 405, "method_not_allowed", message);
        }
      }
      case 413 ->
          writeError(
              ctx,
              413,
              "payload_too_large",
              "request body exceeds the limit of " + MAX_BODY_BYTES + " bytes (1 MiB)");
      default -> writeError(ctx, status, "http_" + status, e.getMessage());
    }
  }

  private static void renderUnexpected(Exception e, Context ctx) {
    String requestId = ctx.attribute(REQUEST_ID);
    log.error("unexpected error on {} {} (request {})", ctx.method(), ctx.path(), requestId, e);
    writeError(
        ctx,
        500,
        "internal_error",
        "the kernel failed to handle this request; request id " + requestId);
  }

  /** A browser (it asks for HTML first) rather than an API client (JSON or anything). */
  private static boolean wantsHtml(Context ctx) {
    String accept = ctx.header("Accept");
    return accept != null && accept.startsWith("text/html");
  }

  /** A small page for a person who typed or followed a wrong address into the browser. */
  private static void writeHtmlError(Context ctx, int status, String title, String message) {
    ctx.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.status(status)
        .contentType("text/html; charset=utf-8")
        .result(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<title>"
                + title
                + " · Jodo Kernel</title></head>\n<body style=\"font:16px/1.5 system-ui,sans-serif;"
                + "max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1f24\">\n<main><h1>"
                + title
                + "</h1>\n<p>"
                + HtmlText.escape(message)
                + ". Jodo looked everywhere.</p>\n<p><a href=\"/dashboard\">Go to the dashboard</a>"
                + "</p></main>\n</body></html>\n");
  }

  private static void writeError(Context ctx, int status, String code, String message) {
    Map<String, String> error = new LinkedHashMap<>();
    error.put("code", code);
    error.put("message", message);
    ctx.status(status).json(Map.of("error", error));
  }

  private static void logRequest(Context ctx, Float millis, MeterRegistry metrics) {
    String route = ctx.endpoint().path;
    if (route == null || route.isEmpty()) {
      route = "unmatched";
    }
    int status = ctx.statusCode();
    Timer.builder("http.server.requests")
        .description("HTTP requests by route and status")
        .tag("method", ctx.method().name())
        .tag("route", route)
        .tag("status", Integer.toString(status))
        .register(metrics)
        .record((long) (millis * 1_000_000L), TimeUnit.NANOSECONDS);
    // Only the path: query strings may carry values that must not reach a log.
    log.atInfo()
        .addKeyValue("method", ctx.method().name())
        .addKeyValue("path", ctx.path())
        .addKeyValue("status", status)
        .addKeyValue("duration_ms", Math.round(millis * 10) / 10.0)
        .addKeyValue("request_id", ctx.<String>attribute(REQUEST_ID))
        .log(
            "{} {} {} {}ms",
            ctx.method().name(),
            ctx.path(),
            status,
            String.format(java.util.Locale.ROOT, "%.1f", millis));
  }
}
