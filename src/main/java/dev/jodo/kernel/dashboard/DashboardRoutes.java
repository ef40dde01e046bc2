package dev.jodo.kernel.dashboard;

import dev.jodo.kernel.platform.Throwables;
import dev.jodo.kernel.platform.auth.Principal;
import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.platform.http.ApiException;
import dev.jodo.kernel.platform.http.HttpServer;
import dev.jodo.kernel.platform.http.Routes;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control panel under {@code /dashboard}: login with the admin token, then server-rendered
 * pages. A session is an HttpOnly, SameSite=Strict cookie (Secure over TLS); a page without one
 * redirects to the login form. Every POST but the login carries the session's CSRF token, checked
 * before anything else: without a valid one the request is refused with 403.
 */
public final class DashboardRoutes implements Routes {
  static final String COOKIE = "jodo_session";
  private static final String FLASH = "jodo_flash";
  private static final String CSRF_ATTRIBUTE = "jodo.dashboard.csrf";
  private static final Logger log = LoggerFactory.getLogger(DashboardRoutes.class);
  private static final Pattern SAFE_NEXT = Pattern.compile("/dashboard(/[A-Za-z0-9/_.-]*)?");
  private static final String CSP =
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self';"
          + " frame-ancestors 'none'; base-uri 'none'";

  private final DashboardSessions sessions;
  private final TokenService tokens;
  private final LoginThrottle throttle;
  private final boolean httpsUrl;
  private final OverviewPage overview;
  private final InferencePage inference;
  private final MemoryPage memory;
  private final ConfigPage config;

  /** What a page needs to know about its request: the session's CSRF token. */
  interface Page {
    void handle(Context ctx, DashboardSessions.Session session) throws Exception;
  }

  public DashboardRoutes(Dashboard dashboard) {
    this.sessions = new DashboardSessions(dashboard.dataSource(), dashboard.clock());
    this.tokens = dashboard.tokens();
    this.throttle = new LoginThrottle(dashboard.clock());
    this.httpsUrl =
        dashboard.config().publicUrl().filter(url -> url.startsWith("https:")).isPresent();
    this.overview = new OverviewPage(dashboard);
    this.inference = new InferencePage(dashboard.inference());
    this.memory = new MemoryPage(dashboard);
    this.config = new ConfigPage(dashboard.config());
  }

  @Override
  public void register(RoutesConfig routes) {
    routes.get("/dashboard/login", guarded(this::loginForm));
    routes.post("/dashboard/login", guarded(this::login));
    routes.post("/dashboard/logout", action(this::logout));
    routes.get("/dashboard", page(overview::render));
    routes.get("/dashboard/inference", page(inference::render));
    routes.get("/dashboard/memory", page(memory::render));
    routes.get("/dashboard/memory/{id}/delete", page(memory::confirmDelete));
    routes.post("/dashboard/memory/{id}/delete", action(memory::delete));
    routes.get("/dashboard/config", page(config::render));
    routes.get("/dashboard/agents/{name}/{action}", page(overview::confirm));
    routes.post("/dashboard/agents/{name}/{action}", action(overview::control));
  }

  /** A page for a logged-in admin; anyone else is sent to the login form. */
  private io.javalin.http.Handler page(Page page) {
    return guarded(
        ctx -> {
          Optional<DashboardSessions.Session> session = session(ctx);
          if (session.isEmpty()) {
            redirect(
                ctx,
                "/dashboard/login?next=" + URLEncoder.encode(ctx.path(), StandardCharsets.UTF_8));
            return;
          }
          ctx.attribute(CSRF_ATTRIBUTE, session.get().csrf());
          page.handle(ctx, session.get());
        });
  }

  /** A form submission: the CSRF token is checked first; without a valid one, 403. */
  private io.javalin.http.Handler action(Page page) {
    return guarded(
        ctx -> {
          Optional<DashboardSessions.Session> session = session(ctx);
          if (session.isEmpty()
              || !DashboardSessions.csrfMatches(session.get(), ctx.formParam("csrf"))) {
            html(
                ctx,
                403,
                Html.page(
                    "Refused",
                    Html.Nav.NONE,
                    false,
                    null,
                    Html.notice(
                            "error",
                            "This form did not come with a valid CSRF token, so nothing was done."
                                + " It may have expired or come from another site.")
                        + "<p><a href=\"/dashboard\">Go back to the dashboard</a>, reload the"
                        + " page and try again.</p>\n"));
            return;
          }
          ctx.attribute(CSRF_ATTRIBUTE, session.get().csrf());
          page.handle(ctx, session.get());
        });
  }

  private interface Step {
    void handle(Context ctx) throws Exception;
  }

  /**
   * Failures as pages, never JSON or a stack trace: an {@link ApiException} with its status and
   * message, the database down as 503, anything else as 500 with the request id to look for in the
   * log.
   */
  private static io.javalin.http.Handler guarded(Step step) {
    return ctx -> {
      try {
        step.handle(ctx);
      } catch (ApiException e) {
        failure(ctx, e.status(), "Something went wrong", e.getMessage());
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        // Services wrap a database failure in an unchecked exception; find it to answer 503.
        Optional<SQLException> database = Throwables.find(e, SQLException.class);
        if (database.isPresent()) {
          databaseDown(ctx, database.get());
          return;
        }
        String request = ctx.attribute(HttpServer.REQUEST_ID);
        log.error("dashboard {} failed (request {})", ctx.path(), request, e);
        failure(
            ctx,
            500,
            "Something broke",
            "The kernel failed to show this page; look for request id " + request + " in its log.");
      }
    };
  }

  private static void databaseDown(Context ctx, SQLException e) {
    log.warn("dashboard {}: database error: {}", ctx.path(), e.getMessage());
    failure(
        ctx,
        503,
        "Database unavailable",
        "The kernel cannot reach its database right now. Try again in a moment.");
  }

  private static void failure(Context ctx, int status, String title, String message) {
    html(
        ctx,
        status,
        Html.page(
            title,
            Html.Nav.NONE,
            false,
            ctx.attribute(CSRF_ATTRIBUTE),
            Html.notice("error", message)
                + "<p><a href=\"/dashboard\">Back to the overview</a></p>\n"));
  }

  private Optional<DashboardSessions.Session> session(Context ctx) throws SQLException {
    return sessions.find(ctx.cookie(COOKIE));
  }

  private void loginForm(Context ctx) throws SQLException {
    if (session(ctx).isPresent()) {
      redirect(ctx, next(ctx.queryParam("next")));
      return;
    }
    String notice =
        ctx.queryParam("bye") != null ? Html.notice("ok", "Logged out. Jodo will miss you.") : "";
    html(ctx, 200, loginPage(notice, ctx.queryParam("next")));
  }

  private void login(Context ctx) throws SQLException {
    String address = ctx.ip();
    String token = Optional.ofNullable(ctx.formParam("token")).map(String::strip).orElse("");
    if (token.isEmpty()) {
      html(
          ctx,
          400,
          loginPage(
              Html.notice(
                  "error",
                  "Enter the admin token in the token field (see JODO_HOME/admin.token or run"
                      + " ./jodo token)."),
              ctx.formParam("next")));
      return;
    }
    Optional<Principal> who = tokens.authenticate(token);
    if (who.isEmpty() || !who.get().admin()) {
      Optional<Duration> wait = throttle.failed(address);
      if (wait.isPresent()) {
        ctx.header("Retry-After", Long.toString(Math.max(1, wait.get().toSeconds())));
        html(
            ctx,
            429,
            loginPage(
                Html.notice(
                    "error",
                    "Too many wrong tokens from your address. Wait "
                        + Html.duration(wait.get())
                        + " and try again."),
                ctx.formParam("next")));
        return;
      }
      log.warn("dashboard login refused from {}", address);
      html(
          ctx,
          401,
          loginPage(
              Html.notice(
                  "error",
                  who.isPresent()
                      ? "That is an agent's token; the dashboard needs the admin token."
                      : "That token did not open the door. Check the token field: it needs the"
                          + " admin token."),
              ctx.formParam("next")));
      return;
    }
    DashboardSessions.Opened opened = sessions.open();
    ctx.header(
        "Set-Cookie",
        COOKIE
            + "="
            + opened.cookie()
            + "; Path=/dashboard; Max-Age="
            + DashboardSessions.LIFETIME.toSeconds()
            + "; HttpOnly; SameSite=Strict"
            + (secure(ctx) ? "; Secure" : ""));
    log.info("dashboard login from {}", address);
    redirect(ctx, next(ctx.formParam("next")));
  }

  private void logout(Context ctx, DashboardSessions.Session session) throws SQLException {
    sessions.close(ctx.cookie(COOKIE));
    ctx.header(
        "Set-Cookie",
        COOKIE
            + "=; Path=/dashboard; Max-Age=0; HttpOnly; SameSite=Strict"
            + (secure(ctx) ? "; Secure" : ""));
    redirect(ctx, "/dashboard/login?bye");
  }

  private static String loginPage(String notice, String next) {
    return Html.page(
        "Log in",
        Html.Nav.NONE,
        false,
        null,
        notice
            + """
            <form class="card" method="post" action="/dashboard/login">
            <label for="token">Admin token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" \
            required autofocus aria-describedby="token-help">
            <p id="token-help" class="small">The kernel wrote it to <code>JODO_HOME/admin.token</code> \
            on first boot; <code>./jodo token</code> shows where it is.</p>
            """
            + (next == null
                ? ""
                : "<input type=\"hidden\" name=\"next\" value=\"" + Html.text(next(next)) + "\">\n")
            + "<button type=\"submit\">Log in</button>\n</form>\n");
  }

  /** Where to go after logging in: a dashboard page, never another site. */
  private static String next(String requested) {
    return requested != null && SAFE_NEXT.matcher(requested).matches() ? requested : "/dashboard";
  }

  private boolean secure(Context ctx) {
    return httpsUrl
        || ctx.req().isSecure()
        || "https".equalsIgnoreCase(ctx.header("X-Forwarded-Proto"));
  }

  /**
   * A message for the next page this browser loads (what a control did), in a short-lived cookie:
   * unlike a query parameter, no link from elsewhere can put words on the dashboard.
   */
  static void flash(Context ctx, String message) {
    ctx.res()
        .addHeader(
            "Set-Cookie",
            FLASH
                + "="
                + URLEncoder.encode(message, StandardCharsets.UTF_8)
                + "; Path=/dashboard; Max-Age=60; HttpOnly; SameSite=Strict");
  }

  /** The flashed message, if any; it is cleared. */
  static Optional<String> takeFlash(Context ctx) {
    String value = ctx.cookie(FLASH);
    if (value == null || value.isEmpty()) {
      return Optional.empty();
    }
    ctx.res()
        .addHeader(
            "Set-Cookie", FLASH + "=; Path=/dashboard; Max-Age=0; HttpOnly; SameSite=Strict");
    try {
      return Optional.of(java.net.URLDecoder.decode(value, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  static void redirect(Context ctx, String location) {
    ctx.header("Cache-Control", "no-store");
    ctx.status(303).header("Location", location).result("");
  }

  /** Writes a page with the headers every dashboard page carries. */
  static void html(Context ctx, int status, String page) {
    ctx.status(status)
        .contentType("text/html; charset=utf-8")
        .header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("X-Frame-Options", "DENY")
        .header("Referrer-Policy", "no-referrer")
        .header("Cache-Control", "no-store")
        .result(page);
  }
}
