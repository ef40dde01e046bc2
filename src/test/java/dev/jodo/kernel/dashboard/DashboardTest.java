package dev.jodo.kernel.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control panel over plain HTTP against a real kernel: login and its refusals, the session
 * cookie's flags, expiry and logout, CSRF refusals that change nothing, secrets masked on the
 * config page, escaped content, and the inference page showing a real call through a fake OpenAI.
 * The browser flows are in {@link DashboardBrowserTest}.
 */
class DashboardTest {
  private static final String OPENAI_KEY = "sk-dashboard-secret-0123456789abcdef";
  private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

  @TempDir Path temp;
  private DatabaseTarget.External database;
  private FakeProvider openai;
  private Kernel kernel;
  private String admin;
  private TestHttp api;
  private final HttpClient client =
      HttpClient.newBuilder()
          .followRedirects(HttpClient.Redirect.NEVER)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @BeforeEach
  void setUp() {
    database = TestPostgres.freshDatabase(DashboardTest.class);
    openai = FakeProvider.openAi(OPENAI_KEY);
    String config =
        """
        providers:
          openai:
            base_url: "%s"
            api_key: "${OPENAI_API_KEY}"
            monthly_budget: 10.00
            emergency_reserve: 1.00
            models:
              gpt-4o-mini: {input_cost_per_1m_tokens: 1.0, output_cost_per_1m_tokens: 2.0, capabilities: [chat], quality: 6}
          proxied:
            type: openai
            base_url: "http://jodo:${OPENAI_API_KEY}@127.0.0.1:9/v1?key=${OPENAI_API_KEY}"
            models:
              m: {input_cost_per_1m_tokens: 0, output_cost_per_1m_tokens: 0, capabilities: [chat]}
        routing:
          intent_preferences:
            chat: [openai]
        """
            .formatted(openai.baseUrl());
    KernelConfig loaded =
        TestConfigs.kernelConfig(temp, database, config, Map.of("OPENAI_API_KEY", OPENAI_KEY));
    kernel = Kernel.start(loaded, Kernel.Options.defaults());
    admin = kernel.firstBootAdminToken().orElseThrow().value();
    api = new TestHttp(kernel.port());
  }

  @AfterEach
  void tearDown() {
    if (kernel != null) {
      kernel.close();
    }
    openai.close();
    TestPostgres.drop(database);
  }

  @Test
  void everyPageRedirectsToTheLoginFormWithoutASession() throws Exception {
    for (String path :
        new String[] {
          "/dashboard",
          "/dashboard/inference",
          "/dashboard/memory",
          "/dashboard/config",
          "/dashboard/agents/jodo/restart"
        }) {
      HttpResponse<String> page = get(path, Optional.empty());
      assertThat(page.statusCode()).as(path).isEqualTo(303);
      assertThat(page.headers().firstValue("Location"))
          .as(path)
          .contains("/dashboard/login?next=" + URLEncoder.encode(path, StandardCharsets.UTF_8));
    }
    // A bogus cookie is no session either.
    assertThat(get("/dashboard", Optional.of("made-up")).statusCode()).isEqualTo(303);

    HttpResponse<String> login = get("/dashboard/login?next=/dashboard/memory", Optional.empty());
    assertThat(login.statusCode()).isEqualTo(200);
    assertThat(login.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
    assertThat(login.body())
        .contains("<label for=\"token\">Admin token</label>")
        .contains("name=\"next\" value=\"/dashboard/memory\"")
        .doesNotContain("http-equiv=\"refresh\"");
  }

  @Test
  void loginRefusesWrongTokensAndSetsAStrictHttpOnlyCookie() throws Exception {
    HttpResponse<String> blank = login("  ", Map.of());
    assertThat(blank.statusCode()).isEqualTo(400);
    assertThat(blank.body()).contains("token field");
    assertThat(blank.headers().firstValue("Set-Cookie")).isEmpty();

    HttpResponse<String> wrong = login("jodo_admin_not-the-token", Map.of());
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).contains("did not open the door");

    String agentToken =
        kernel.tokens().createAgentToken("helper", Set.of(Scope.THINK)).token().value();
    HttpResponse<String> agent = login(agentToken, Map.of());
    assertThat(agent.statusCode()).isEqualTo(401);
    assertThat(agent.body()).contains("agent&#39;s token");

    HttpResponse<String> ok = login(admin, Map.of("next", "https://evil.example/steal"));
    assertThat(ok.statusCode()).isEqualTo(303);
    assertThat(ok.headers().firstValue("Location")).contains("/dashboard"); // never off-site
    String cookie = ok.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(cookie)
        .startsWith("jodo_session=")
        .contains("HttpOnly")
        .contains("SameSite=Strict")
        .contains("Path=/dashboard")
        .contains("Max-Age=43200")
        .doesNotContain("Secure")
        .doesNotContain(admin);

    HttpResponse<String> overTls =
        send(
            HttpRequest.newBuilder(uri("/dashboard/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("X-Forwarded-Proto", "https")
                .POST(HttpRequest.BodyPublishers.ofString(form(Map.of("token", admin))))
                .build());
    assertThat(overTls.headers().firstValue("Set-Cookie"))
        .hasValueSatisfying(c -> assertThat(c).contains("; Secure"));

    String session = sessionOf(ok);
    HttpResponse<String> overview = get("/dashboard", Optional.of(session));
    assertThat(overview.statusCode()).isEqualTo(200);
    assertThat(overview.headers().firstValue("Content-Security-Policy"))
        .hasValueSatisfying(csp -> assertThat(csp).contains("default-src 'none'"));
    assertThat(overview.body())
        .contains("<meta http-equiv=\"refresh\" content=\"10\">")
        .contains("Growth milestones")
        .contains("No milestones yet. Jodo is still learning to crawl.");
    // Logged in, the login form sends you on.
    assertThat(get("/dashboard/login", Optional.of(session)).statusCode()).isEqualTo(303);
  }

  @Test
  void logoutAndExpiryEndTheSession() throws Exception {
    String session = sessionOf(login(admin, Map.of()));
    String csrf = csrf(get("/dashboard", Optional.of(session)).body());

    HttpResponse<String> forged = post("/dashboard/logout", session, Map.of("csrf", "forged"));
    assertThat(forged.statusCode()).isEqualTo(403);
    assertThat(get("/dashboard", Optional.of(session)).statusCode()).isEqualTo(200);

    HttpResponse<String> out = post("/dashboard/logout", session, Map.of("csrf", csrf));
    assertThat(out.statusCode()).isEqualTo(303);
    assertThat(out.headers().firstValue("Location")).contains("/dashboard/login?bye");
    assertThat(out.headers().firstValue("Set-Cookie"))
        .hasValueSatisfying(c -> assertThat(c).contains("Max-Age=0"));
    assertThat(get("/dashboard", Optional.of(session)).statusCode()).isEqualTo(303);

    String second = sessionOf(login(admin, Map.of()));
    assertThat(get("/dashboard/config", Optional.of(second)).statusCode()).isEqualTo(200);
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE dashboard_sessions SET expires_at = now() - interval '1 second'")) {
      assertThat(ps.executeUpdate()).isEqualTo(1); // the logged-out session is gone already
    }
    assertThat(get("/dashboard/config", Optional.of(second)).statusCode()).isEqualTo(303);
  }

  @Test
  void rotatingTheAdminTokenEndsEveryDashboardSession() throws Exception {
    String session = sessionOf(login(admin, Map.of()));
    assertThat(get("/dashboard", Optional.of(session)).statusCode()).isEqualTo(200);

    String rotated =
        new TokenService(kernel.database().dataSource(), Optional.empty())
            .rotateAdminToken()
            .value();

    assertThat(get("/dashboard", Optional.of(session)).statusCode()).isEqualTo(303);
    assertThat(get("/dashboard", Optional.of(sessionOf(login(rotated, Map.of())))).statusCode())
        .isEqualTo(200);
  }

  @Test
  void aPostWithoutItsCsrfTokenIsRefusedAndChangesNothing() throws Exception {
    String id = storeMemory("the cat is called Miso", "pets");
    String session = sessionOf(login(admin, Map.of()));
    String csrf = csrf(get("/dashboard/memory", Optional.of(session)).body());
    String path = "/dashboard/memory/" + id + "/delete";

    assertThat(post(path, session, Map.of()).statusCode()).isEqualTo(403);
    assertThat(post(path, session, Map.of("csrf", csrf + "x")).statusCode()).isEqualTo(403);
    assertThat(post(path, "", Map.of("csrf", csrf)).statusCode()).isEqualTo(403);
    HttpResponse<String> refused = post("/dashboard/agents/jodo/kill", session, Map.of());
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("CSRF");
    assertThat(live(id)).isTrue();

    HttpResponse<String> deleted = post(path, session, Map.of("csrf", csrf));
    assertThat(deleted.statusCode()).isEqualTo(303);
    assertThat(deleted.headers().firstValue("Location")).contains("/dashboard/memory");
    assertThat(live(id)).isFalse();
    String flash =
        deleted.headers().allValues("Set-Cookie").stream()
            .filter(c -> c.startsWith("jodo_flash="))
            .findFirst()
            .orElseThrow();
    HttpResponse<String> after =
        get(
            "/dashboard/memory",
            Optional.of(session + "; " + flash.substring(0, flash.indexOf(';'))));
    assertThat(after.body()).contains("Memory " + id + " is forgotten.").doesNotContain("Miso");
    // Deleting it again is a clear 404, not a 500.
    assertThat(get(path, Optional.of(session)).statusCode()).isEqualTo(404);
  }

  @Test
  void repeatedWrongTokensAreThrottled() throws Exception {
    for (int i = 0; i < LoginThrottle.MAX_FAILURES; i++) {
      assertThat(login("jodo_admin_guess-" + i, Map.of()).statusCode()).isEqualTo(401);
    }
    HttpResponse<String> throttled = login("jodo_admin_one-more", Map.of());
    assertThat(throttled.statusCode()).isEqualTo(429);
    assertThat(throttled.headers().firstValue("Retry-After")).isPresent();
    assertThat(throttled.headers().firstValue("Set-Cookie")).isEmpty();
    assertThat(throttled.body()).contains("Too many wrong tokens");

    // Guessers behind the owner's proxy address must not lock the owner out.
    HttpResponse<String> owner = login(admin, Map.of());
    assertThat(owner.statusCode()).isEqualTo(303);
    assertThat(sessionOf(owner)).isNotBlank();
  }

  @Test
  void concurrentWrongTokensAreCountedExactly() throws Exception {
    int guesses = LoginThrottle.MAX_FAILURES * 3;
    List<Integer> statuses = new CopyOnWriteArrayList<>();
    try (var pool = Executors.newFixedThreadPool(guesses)) {
      CountDownLatch start = new CountDownLatch(1);
      for (int i = 0; i < guesses; i++) {
        String guess = "jodo_admin_guess-" + i;
        pool.submit(
            () -> {
              start.await();
              statuses.add(login(guess, Map.of()).statusCode());
              return null;
            });
      }
      start.countDown();
    }
    assertThat(statuses).hasSize(guesses);
    assertThat(statuses.stream().filter(s -> s == 401).count())
        .isEqualTo(LoginThrottle.MAX_FAILURES);
    assertThat(statuses.stream().filter(s -> s == 429).count())
        .isEqualTo(guesses - LoginThrottle.MAX_FAILURES);
  }

  @Test
  void theConfigPageMasksEverySecretAndShowsTheGenesis() throws Exception {
    String session = sessionOf(login(admin, Map.of()));
    HttpResponse<String> page = get("/dashboard/config", Optional.of(session));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body())
        .contains("api_key: &#39;****&#39;")
        .contains("input_cost_per_1m_tokens: 1")
        .contains("monthly_budget: 10")
        .contains("purpose: You are Jodo.")
        .contains("base_url: http://****@127.0.0.1:9/v1?****")
        .doesNotContain(OPENAI_KEY)
        .doesNotContain(OPENAI_KEY.substring(0, 8))
        .doesNotContain("http-equiv=\"refresh\"");
  }

  @Test
  void contentIsEscapedAndTheInferencePageShowsRealCalls() throws Exception {
    storeMemory("<script>alert('x')</script> & <b>bold</b>", "<img src=x>");
    openai.reply("hello there").usage(12, 5);
    assertThat(
            api.post(
                    "/api/think",
                    admin,
                    "{\"intent\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .status())
        .isEqualTo(200);

    String session = sessionOf(login(admin, Map.of()));
    String memory = get("/dashboard/memory", Optional.of(session)).body();
    assertThat(memory)
        .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;")
        .contains("&lt;img src=x&gt;")
        .doesNotContain("<script>")
        .doesNotContain("<b>bold")
        .doesNotContain("<img");

    String inference = get("/dashboard/inference", Optional.of(session)).body();
    assertThat(inference).contains("Recent requests").contains("data-queue=\"openai\"");
    Matcher row =
        Pattern.compile(
                "<tr><td>[^<]+UTC</td><td>admin</td><td>chat</td><td>openai</td><td>gpt-4o-mini</td>"
                    + "<td class=\"num\">12 / 5</td><td class=\"num\">\\$0\\.000022</td>"
                    + "<td class=\"num\">\\d+ ms</td><td class=\"outcome-settled\">ok</td></tr>")
            .matcher(inference);
    assertThat(row.find()).as(inference).isTrue();

    String overview = get("/dashboard", Optional.of(session)).body();
    assertThat(overview)
        .contains("1 request</strong>")
        .contains("data-provider=\"openai\"")
        .contains("The last $1.00 is the emergency reserve");
  }

  @Test
  void unknownControlsAndAgentsAreClearNotFounds() throws Exception {
    String session = sessionOf(login(admin, Map.of()));
    HttpResponse<String> control = get("/dashboard/agents/jodo/explode", Optional.of(session));
    assertThat(control.statusCode()).isEqualTo(404);
    assertThat(control.body()).contains("restart, rollback, kill or rebirth");
    HttpResponse<String> agent = get("/dashboard/agents/nobody/restart", Optional.of(session));
    assertThat(agent.statusCode()).isEqualTo(404);
    assertThat(agent.body()).contains("agent &#39;nobody&#39; is not configured");
  }

  @Test
  void aWrongAddressInTheBrowserGetsAPageAndAnApiClientGetsJson() throws Exception {
    // The path is shown as sent (still percent-encoded); what may be sent raw is escaped.
    String path = "/dashboard/it's&more%3Cscript%3E";
    HttpResponse<String> page =
        send(HttpRequest.newBuilder(uri(path)).header("Accept", "text/html,*/*;q=0.8").build());
    assertThat(page.statusCode()).isEqualTo(404);
    assertThat(page.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
    assertThat(page.body())
        .contains("<h1>Not found</h1>")
        .contains("no route GET /dashboard/it&#39;s&amp;more%3Cscript%3E")
        .doesNotContain("<script>")
        .contains("href=\"/dashboard\"");

    HttpResponse<String> json =
        send(HttpRequest.newBuilder(uri(path)).header("Accept", "application/json").build());
    assertThat(json.statusCode()).isEqualTo(404);
    assertThat(json.body()).contains("\"code\":\"not_found\"");

    HttpResponse<String> wrongMethod =
        send(
            HttpRequest.newBuilder(uri("/dashboard"))
                .header("Accept", "text/html")
                .PUT(HttpRequest.BodyPublishers.noBody())
                .build());
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.headers().firstValue("Allow"))
        .hasValueSatisfying(allow -> assertThat(allow).contains("GET"));
    assertThat(wrongMethod.body()).contains("<h1>Not allowed</h1>").contains("PUT is not allowed");
  }

  @Test
  void aDatabaseErrorIsAPageAndTheDashboardRecovers() throws Exception {
    String session = sessionOf(login(admin, Map.of()));
    sql("ALTER TABLE dashboard_sessions RENAME TO dashboard_sessions_away");
    HttpResponse<String> down = get("/dashboard", Optional.of(session));
    assertThat(down.statusCode()).isEqualTo(503);
    assertThat(down.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/html"));
    assertThat(down.body())
        .contains("cannot reach its database")
        .doesNotContain("dashboard_sessions") // no SQL or stack trace on the page
        .doesNotContain("Exception");

    sql("ALTER TABLE dashboard_sessions_away RENAME TO dashboard_sessions");
    assertThat(get("/dashboard", Optional.of(session)).statusCode()).isEqualTo(200);
  }

  private void sql(String statement) throws Exception {
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      ps.execute();
    }
  }

  private String storeMemory(String content, String tag) {
    String body = "{\"content\":" + json(content) + ",\"tags\":[" + json(tag) + "]}";
    TestHttp.Response stored = api.post("/api/memory/store", admin, body);
    assertThat(stored.status()).as(stored.body()).isEqualTo(200);
    return stored.json().path("id").asText();
  }

  private static String json(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private boolean live(String id) throws Exception {
    try (Connection c = kernel.database().dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT deleted_at IS NULL FROM memories WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  private HttpResponse<String> login(String token, Map<String, String> extra) throws Exception {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("token", token);
    fields.putAll(extra);
    return send(
        HttpRequest.newBuilder(uri("/dashboard/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form(fields)))
            .build());
  }

  private static String sessionOf(HttpResponse<String> login) {
    assertThat(login.statusCode()).as(login.body()).isEqualTo(303);
    String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
    return cookie.substring(0, cookie.indexOf(';'));
  }

  private static String csrf(String page) {
    Matcher m = CSRF.matcher(page);
    assertThat(m.find()).as("a CSRF field in the page").isTrue();
    return m.group(1);
  }

  private HttpResponse<String> get(String path, Optional<String> cookie) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
    cookie.ifPresent(c -> request.header("Cookie", c.contains("=") ? c : "jodo_session=" + c));
    return send(request.build());
  }

  private HttpResponse<String> post(String path, String cookie, Map<String, String> fields)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form(fields)));
    if (!cookie.isEmpty()) {
      request.header("Cookie", cookie);
    }
    return send(request.build());
  }

  private HttpResponse<String> send(HttpRequest request) throws Exception {
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + kernel.port() + path);
  }

  private static String form(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(
            e ->
                URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)
                    + "="
                    + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }
}
