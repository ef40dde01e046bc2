package dev.jodo.kernel.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.jodo.kernel.Kernel;
import dev.jodo.kernel.agents.LocalHost;
import dev.jodo.kernel.agents.brain.Brain;
import dev.jodo.kernel.platform.config.DatabaseTarget;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.testing.TestAgents;
import dev.jodo.kernel.testing.TestConfigs;
import dev.jodo.kernel.testing.TestHttp;
import dev.jodo.kernel.testing.TestPostgres;
import dev.jodo.kernel.testing.fakes.FakeProvider;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The control panel in a real browser (Debian's chromium, headless, through chromedriver) against a
 * real kernel supervising a real agent (the bundled seed, born through a fake OpenAI): log in,
 * restart and see the pid change, roll back to a tag, a forged CSRF token refused, the redirect
 * when logged out, a memory holding {@code <script>} shown as text. Each page is saved as a
 * screenshot under {@code target/dashboard-screenshots/} for review.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path SCREENSHOTS = Path.of("target", "dashboard-screenshots");
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  /** What the fake model answers the seed: a stdlib app serving /health. */
  private static final String APP =
      "=== FILE: main.py ===\n" + TestAgents.HEALTHY + "=== END FILE ===\n";

  private Path temp;
  private DatabaseTarget.External database;
  private FakeProvider openai;
  private Kernel kernel;
  private String admin;
  private TestHttp api;
  private WebDriver browser;
  private String base;

  @BeforeAll
  void startKernelAndBrowser() throws Exception {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present && "1".equals(System.getenv("JODO_SKIP_BROWSER_TESTS"))) {
      Assumptions.abort("JODO_SKIP_BROWSER_TESTS=1 and no chromium here");
    }
    if (!present) {
      fail(
          "the dashboard's browser tests need Debian's chromium and chromedriver at "
              + CHROMIUM
              + " and "
              + CHROMEDRIVER
              + "; `./jodo test` installs them when it may (root or sudo), or run: sudo apt-get"
              + " install chromium chromium-driver (JODO_SKIP_BROWSER_TESTS=1 skips these tests)");
    }
    temp = Files.createTempDirectory("jodo-dashboard-browser");
    database = TestPostgres.freshDatabase(DashboardBrowserTest.class);
    openai = FakeProvider.openAi("sk-openai-test").reply(APP);
    int agentPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      agentPort = socket.getLocalPort();
    }
    String config =
        """
        kernel:
          health_check_interval: 1
        jodo:
          host: local
          port: %d
          brain_path: "%s"
        providers:
          openai:
            base_url: "%s"
            api_key: "${OPENAI_API_KEY}"
            monthly_budget: 5.00
            emergency_reserve: 0.50
            models:
              gpt-4o-mini: {input_cost_per_1m_tokens: 0.15, output_cost_per_1m_tokens: 0.60, capabilities: [code, chat], quality: 6}
        routing:
          intent_preferences:
            code: [openai]
            chat: [openai]
        """
            .formatted(agentPort, temp.resolve("brains/jodo"), openai.baseUrl());
    KernelConfig loaded =
        TestConfigs.kernelConfig(
            temp, database, config, Map.of("OPENAI_API_KEY", "sk-openai-test"));
    kernel = Kernel.start(loaded, Kernel.Options.defaults());
    admin = kernel.firstBootAdminToken().orElseThrow().value();
    api = new TestHttp(kernel.port());
    base = "http://127.0.0.1:" + kernel.port();

    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1800");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    Files.createDirectories(SCREENSHOTS);

    awaitTrue(
        "the agent to be born and healthy",
        () ->
            api.get("/api/status", admin).json().path("jodo").path("health_check_ok").asBoolean());
  }

  @AfterAll
  void stopEverything() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (kernel != null) {
      kernel.close();
    }
    if (temp != null) {
      Path pidFile = temp.resolve("brains/jodo.jodo/agent.pid");
      if (Files.exists(pidFile)) {
        new LocalHost()
            .stop(Long.parseLong(Files.readString(pidFile).strip()), Duration.ofSeconds(2));
      }
    }
    if (openai != null) {
      openai.close();
    }
    if (database != null) {
      TestPostgres.drop(database);
    }
  }

  @BeforeEach
  void loggedOut() {
    browser.get(base + "/dashboard/login");
    browser.manage().deleteAllCookies();
    browser.manage().window().setSize(new Dimension(1280, 1800));
  }

  @Test
  void aLoggedOutVisitorIsSentToTheLoginFormAndBackAfterLoggingIn() throws Exception {
    browser.get(base + "/dashboard/config");
    assertThat(browser.getCurrentUrl()).startsWith(base + "/dashboard/login?next=");
    assertThat(browser.findElement(By.cssSelector("label[for=token]")).getText())
        .isEqualTo("Admin token");
    screenshot("login");

    browser.findElement(By.id("token")).sendKeys("jodo_admin_wrong");
    navigate(By.cssSelector("button[type=submit]"));
    assertThat(browser.findElement(By.cssSelector(".notice.error")).getText())
        .contains("did not open the door");

    browser.findElement(By.id("token")).sendKeys(admin);
    navigate(By.cssSelector("button[type=submit]"));
    assertThat(browser.getCurrentUrl()).isEqualTo(base + "/dashboard/config");
    assertThat(browser.findElement(By.id("config-yaml")).getText())
        .contains("api_key: '****'")
        .doesNotContain("sk-openai-test");
    assertThat(browser.findElement(By.id("genesis-yaml")).getText()).contains("You are Jodo.");
    screenshot("config");

    navigate(By.cssSelector(".logout button"));
    assertThat(browser.getCurrentUrl()).isEqualTo(base + "/dashboard/login?bye");
    browser.get(base + "/dashboard");
    assertThat(browser.getCurrentUrl()).startsWith(base + "/dashboard/login");
  }

  @Test
  void restartingFromTheOverviewByKeyboardGivesTheAgentANewPid() throws Exception {
    logIn();
    assertThat(
            browser.findElement(By.cssSelector("meta[http-equiv=refresh]")).getAttribute("content"))
        .isEqualTo("10");
    awaitRunning(); // another test may have restarted it a moment ago
    long pid = Long.parseLong(fact("pid"));
    assertThat(pid).isPositive();
    assertThat(fact("hash")).hasSize(7);
    screenshot("overview");

    // Keyboard only: Tab until the Restart control has focus, then Enter.
    WebElement restart = browser.findElement(By.cssSelector("a[aria-label='Restart jodo']"));
    for (int i = 0; i < 40 && !restart.equals(browser.switchTo().activeElement()); i++) {
      new Actions(browser).sendKeys(Keys.TAB).perform();
    }
    assertThat(browser.switchTo().activeElement()).isEqualTo(restart);
    WebElement overview = browser.findElement(By.tagName("html"));
    new Actions(browser).sendKeys(Keys.ENTER).perform();
    awaitLeft(overview);

    assertThat(browser.getCurrentUrl()).isEqualTo(base + "/dashboard/agents/jodo/restart");
    assertThat(browser.findElements(By.cssSelector("meta[http-equiv=refresh]"))).isEmpty();
    screenshot("confirm-restart");
    navigate(By.xpath("//button[normalize-space()='Restart jodo']"));

    assertThat(browser.getCurrentUrl()).isEqualTo(base + "/dashboard");
    assertThat(browser.findElement(By.cssSelector(".notice.ok")).getText())
        .contains("jodo is restarting (pid " + pid + " stopped)");
    awaitTrue(
        "a new pid, running",
        () -> {
          browser.navigate().refresh();
          String now = fact("pid");
          return !now.equals("none")
              && Long.parseLong(now) != pid
              && browser
                  .findElement(By.cssSelector("#agent-jodo + p .status"))
                  .getText()
                  .contains("running");
        });
    screenshot("overview-after-restart");
  }

  @Test
  void rollingBackToATagFromTheList() throws Exception {
    Brain brain = kernel.agents().agent("jodo").orElseThrow().brain();
    String tagged = brain.head().orElseThrow().hash();
    String tag = brain.tagStable(tagged);
    Path brainDir = kernel.agents().agent("jodo").orElseThrow().brainDir();
    Files.writeString(brainDir.resolve("notes.txt"), "a change that will be rolled back\n");
    TestHttp.Response committed =
        api.post("/api/commit", admin, "{\"message\":\"Added notes after " + tag + "\"}");
    assertThat(committed.status()).as(committed.body()).isEqualTo(200);

    logIn();
    navigate(By.cssSelector("a[aria-label='Roll back jodo']"));
    Select target = new Select(browser.findElement(By.id("target")));
    assertThat(target.getOptions())
        .extracting(WebElement::getText)
        .anySatisfy(text -> assertThat(text).startsWith(tag + " · " + tagged.substring(0, 7)));
    target.selectByValue(tag);
    screenshot("confirm-rollback");
    navigate(By.xpath("//button[normalize-space()='Roll back jodo']"));

    assertThat(browser.getCurrentUrl()).isEqualTo(base + "/dashboard");
    assertThat(browser.findElement(By.cssSelector(".notice.ok")).getText())
        .contains("jodo rolled back from")
        .contains("to " + tag);
    awaitTrue(
        "the overview to show the agent on " + tag,
        () -> {
          browser.navigate().refresh();
          return fact("tag").equals(tag) && fact("hash").equals(tagged.substring(0, 7));
        });
    assertThat(Files.exists(brainDir.resolve("notes.txt"))).isFalse();
    assertThat(browser.findElement(By.id("milestones")).findElement(By.xpath("..")).getText())
        .contains("rollback");

    // A target that names nothing is refused on the form, saying so.
    browser.get(base + "/dashboard/agents/jodo/rollback");
    browser.findElement(By.id("other")).sendKeys("stable-v999");
    navigate(By.xpath("//button[normalize-space()='Roll back jodo']"));
    assertThat(browser.findElement(By.cssSelector(".notice.error")).getText())
        .contains("stable-v999");
  }

  @Test
  void aForgedCsrfTokenIsRefusedAndNothingHappens() throws Exception {
    logIn();
    awaitRunning();
    long pid = Long.parseLong(fact("pid"));
    browser.get(base + "/dashboard/agents/jodo/kill");
    ((JavascriptExecutor) browser)
        .executeScript("document.querySelector('main form input[name=csrf]').value = 'forged';");
    navigate(By.xpath("//button[normalize-space()='Kill jodo']"));
    assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Refused");
    assertThat(browser.findElement(By.cssSelector(".notice.error")).getText()).contains("CSRF");
    screenshot("csrf-refused");

    browser.get(base + "/dashboard");
    assertThat(Long.parseLong(fact("pid"))).isEqualTo(pid);
    assertThat(browser.findElement(By.cssSelector("#agent-jodo + p .status")).getText())
        .contains("running");
  }

  @Test
  void aMemoryHoldingMarkupIsShownAsText() throws Exception {
    String content = "<script>document.title='pwned'</script><b>bold</b> & more";
    TestHttp.Response stored =
        api.post(
            "/api/memory/store",
            admin,
            "{\"content\":\"<script>document.title='pwned'</script><b>bold</b> & more\","
                + "\"tags\":[\"<i>tag</i>\"]}");
    assertThat(stored.status()).as(stored.body()).isEqualTo(200);
    String id = stored.json().path("id").asText();

    logIn();
    browser.get(base + "/dashboard/memory");
    WebElement row = browser.findElement(By.cssSelector("tr[data-memory='" + id + "']"));
    assertThat(row.findElement(By.cssSelector("td.content")).getText()).isEqualTo(content);
    assertThat(row.findElements(By.tagName("b"))).isEmpty();
    assertThat(row.findElements(By.tagName("script"))).isEmpty();
    assertThat(row.findElement(By.cssSelector(".tag")).getText()).isEqualTo("<i>tag</i>");
    assertThat(browser.getTitle()).isEqualTo("Memory · Jodo Kernel");
    screenshot("memory");

    browser.findElement(By.id("q")).sendKeys("bold");
    navigate(By.xpath("//button[normalize-space()='Search']"));
    WebElement found =
        browser
            .findElement(By.id("found"))
            .findElement(By.xpath(".."))
            .findElement(By.cssSelector("tr[data-memory='" + id + "'] td.content"));
    assertThat(found.getText()).isEqualTo(content);
    screenshot("memory-search");

    navigate(By.cssSelector("a[aria-label='Delete memory " + id + "']"));
    screenshot("confirm-delete-memory");
    navigate(By.xpath("//button[normalize-space()='Delete this memory']"));
    assertThat(browser.findElement(By.cssSelector(".notice.ok")).getText())
        .isEqualTo("Memory " + id + " is forgotten.");
    assertThat(browser.findElements(By.cssSelector("tr[data-memory='" + id + "']"))).isEmpty();
  }

  @Test
  void theInferencePageAndAPhoneSizedOverview() throws Exception {
    TestHttp.Response think =
        api.post(
            "/api/think",
            admin,
            "{\"intent\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}");
    assertThat(think.status()).as(think.body()).isEqualTo(200);

    logIn();
    browser.get(base + "/dashboard/inference");
    assertThat(browser.findElement(By.cssSelector("tr[data-queue=openai]")).getText())
        .contains("of 8");
    List<WebElement> rows = browser.findElements(By.cssSelector("#recent ~ .table-wrap tbody tr"));
    assertThat(rows).isNotEmpty();
    assertThat(rows.get(0).getText())
        .contains("admin")
        .contains("chat")
        .contains("openai")
        .contains("ok");
    screenshot("inference");

    browser.manage().window().setSize(new Dimension(390, 844));
    browser.get(base + "/dashboard");
    Object overflow =
        ((JavascriptExecutor) browser)
            .executeScript(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth;");
    assertThat(overflow).isEqualTo(false);
    assertThat(browser.findElement(By.cssSelector("a[aria-label='Restart jodo']")).isDisplayed())
        .isTrue();
    screenshot("overview-phone");
  }

  private void awaitRunning() throws InterruptedException {
    awaitTrue(
        "jodo running with a pid",
        () -> {
          browser.navigate().refresh();
          return browser
                  .findElement(By.cssSelector("#agent-jodo + p .status"))
                  .getText()
                  .contains("running")
              && !fact("pid").equals("none");
        });
  }

  /** Clicks what leads to another page and waits until the browser has left this one. */
  private void navigate(By what) {
    WebElement page = browser.findElement(By.tagName("html"));
    browser.findElement(what).click();
    awaitLeft(page);
  }

  /**
   * Waits until {@code page} is no longer the document: chromedriver reports that as a stale
   * element, or while the new page loads as "node does not belong to the document".
   */
  private void awaitLeft(WebElement page) {
    new WebDriverWait(browser, Duration.ofSeconds(30))
        .until(
            driver -> {
              try {
                page.isEnabled();
                return false;
              } catch (WebDriverException gone) {
                return true;
              }
            });
  }

  private void logIn() {
    browser.get(base + "/dashboard/login");
    browser.findElement(By.id("token")).sendKeys(admin);
    navigate(By.cssSelector("button[type=submit]"));
    assertThat(browser.getCurrentUrl()).isEqualTo(base + "/dashboard");
  }

  /** A fact of the jodo card on the overview: pid, uptime, tag, hash, … */
  private String fact(String key) {
    return browser
        .findElement(
            By.cssSelector("article[aria-labelledby=agent-jodo] dd[data-fact=" + key + "]"))
        .getText();
  }

  private void screenshot(String name) throws IOException {
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(
        shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  private static void awaitTrue(String what, Supplier<Boolean> condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (condition.get()) {
          return;
        }
      } catch (RuntimeException e) {
        last = e;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("timed out waiting for " + what, last);
  }
}
