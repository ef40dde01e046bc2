package dev.jodo.kernel.dashboard;

import dev.jodo.kernel.platform.http.HtmlText;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The dashboard's HTML: escaping and the page frame (navigation, inline CSS). Every piece of user
 * or agent content goes through {@link #text} before it reaches a page.
 */
final class Html {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

  /** The pages in the navigation bar. */
  enum Nav {
    OVERVIEW("Overview", "/dashboard"),
    INFERENCE("Inference", "/dashboard/inference"),
    MEMORY("Memory", "/dashboard/memory"),
    CONFIG("Config", "/dashboard/config"),
    NONE("", "");

    final String label;
    final String href;

    Nav(String label, String href) {
      this.label = label;
      this.href = href;
    }
  }

  private Html() {}

  /** {@code value} escaped for element content and quoted attribute values; null is empty. */
  static String text(Object value) {
    return HtmlText.escape(value);
  }

  static String time(Instant instant) {
    return instant == null ? "never" : TIME.format(instant);
  }

  /** "3 d 4 h", "5 min 2 s": how long, for people. */
  static String duration(Duration d) {
    long s = Math.max(0, d.toSeconds());
    if (s >= 86_400) {
      return s / 86_400 + " d " + (s % 86_400) / 3600 + " h";
    }
    if (s >= 3600) {
      return s / 3600 + " h " + (s % 3600) / 60 + " min";
    }
    if (s >= 60) {
      return s / 60 + " min " + s % 60 + " s";
    }
    return s + " s";
  }

  /** Dollars with two decimals, or up to six below a cent so that small spends do not read $0. */
  static String money(BigDecimal amount) {
    if (amount == null) {
      return "";
    }
    BigDecimal abs = amount.abs();
    if (abs.signum() == 0 || abs.compareTo(new BigDecimal("0.01")) >= 0) {
      return "$" + amount.setScale(2, RoundingMode.HALF_UP).toPlainString();
    }
    return "$" + amount.setScale(6, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
  }

  /** A hidden CSRF field for a form. */
  static String csrf(String token) {
    return "<input type=\"hidden\" name=\"csrf\" value=\"" + text(token) + "\">";
  }

  /**
   * A whole page. {@code refresh}: reload every 10 s (pages without forms to fill in); {@code
   * csrf}: the session's token for the log-out button, null on the login page.
   */
  static String page(String title, Nav active, boolean refresh, String csrf, String body) {
    StringBuilder out = new StringBuilder(8192 + body.length());
    out.append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if (refresh) {
      out.append("<meta http-equiv=\"refresh\" content=\"10\">\n");
    }
    out.append("<title>")
        .append(text(title))
        .append(" · Jodo Kernel</title>\n<style>")
        .append(CSS)
        .append("</style>\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to content</a>\n")
        .append("<header>\n<p class=\"brand\">Jodo Kernel</p>\n");
    if (csrf != null) {
      out.append("<nav aria-label=\"Dashboard\">\n<ul>\n");
      for (Nav nav : Nav.values()) {
        if (nav == Nav.NONE) {
          continue;
        }
        out.append("<li><a href=\"")
            .append(nav.href)
            .append('"')
            .append(nav == active ? " aria-current=\"page\"" : "")
            .append('>')
            .append(nav.label)
            .append("</a></li>\n");
      }
      out.append("</ul>\n</nav>\n")
          .append("<form class=\"logout\" method=\"post\" action=\"/dashboard/logout\">")
          .append(csrf(csrf))
          .append("<button type=\"submit\">Log out</button></form>\n");
    }
    out.append("</header>\n<main id=\"main\">\n<h1>")
        .append(text(title))
        .append("</h1>\n")
        .append(body)
        .append("</main>\n</body>\n</html>\n");
    return out.toString();
  }

  /** A notice above a page's content: {@code kind} is ok or error (read out by screen readers). */
  static String notice(String kind, String message) {
    return "<p class=\"notice "
        + kind
        + "\" role=\""
        + ("error".equals(kind) ? "alert" : "status")
        + "\">"
        + text(message)
        + "</p>\n";
  }

  private static final String CSS =
      """
      :root{--fg:#1b1f24;--muted:#4a5560;--bg:#fafbfc;--line:#d0d7de;--accent:#0b5cad;\
      --ok:#116329;--warn:#7a4b00;--bad:#a40e26;--info:#0b4f8a;--calm:#5a32a3}
      *{box-sizing:border-box}
      body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;\
      color:var(--fg);background:var(--bg)}
      header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.6rem 1rem;\
      background:#1b1f24;color:#fff}
      header a,header button{color:#fff}
      .brand{margin:0;font-weight:700}
      nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0;padding:0;list-style:none}
      nav a{text-decoration:none;padding:.2rem .1rem}
      nav a[aria-current=page]{border-bottom:3px solid #fff}
      .logout{margin-left:auto}
      .logout button{background:transparent;border:1px solid #fff}
      main{max-width:70rem;margin:0 auto;padding:1rem}
      h1{font-size:1.6rem;margin:.5rem 0 1rem}
      h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
      h3{font-size:1.05rem;margin:1rem 0 .4rem}
      a{color:var(--accent)}
      a:focus,button:focus,input:focus,select:focus{outline:3px solid var(--fg);outline-offset:2px}
      header a:focus,header button:focus{outline-color:#fff}
      .skip{position:absolute;left:-999px}
      .skip:focus{left:1rem;top:1rem;background:#fff;color:var(--fg);padding:.5rem;z-index:9}
      .card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:1rem;\
      margin:0 0 1rem}
      .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}
      dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}
      dl.facts dt{color:var(--muted)}
      dl.facts dd{margin:0;overflow-wrap:anywhere}
      .status{display:inline-block;font-weight:700;padding:.1rem .6rem;border-radius:1rem;\
      border:2px solid currentColor}
      .status-running{color:var(--ok)}
      .status-starting{color:var(--info)}
      .status-unhealthy{color:var(--warn)}
      .status-dead{color:var(--bad)}
      .status-rebirthing{color:var(--calm)}
      .status-unknown{color:var(--muted)}
      .controls{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.75rem}
      .button,button{display:inline-block;font:inherit;padding:.45rem .9rem;border-radius:4px;\
      border:1px solid var(--accent);background:var(--accent);color:#fff;text-decoration:none;\
      cursor:pointer;min-height:2.5rem}
      .button.secondary,button.secondary{background:#fff;color:var(--accent)}
      .button.danger,button.danger{background:var(--bad);border-color:var(--bad)}
      .bar{position:relative;height:1.2rem;background:#e6eaef;border:1px solid var(--line);\
      border-radius:3px;overflow:hidden}
      .bar .spent{position:absolute;left:0;top:0;bottom:0;background:var(--accent)}
      .bar .reserve{position:absolute;top:0;bottom:0;right:0;background:repeating-linear-gradient(\
      45deg,#f3d9a4,#f3d9a4 4px,#fff 4px,#fff 8px);border-left:2px solid var(--warn)}
      .bar.over .spent{background:var(--bad)}
      .small{font-size:.9rem;color:var(--muted)}
      .table-wrap{overflow-x:auto}
      table{border-collapse:collapse;width:100%;background:#fff}
      th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);\
      vertical-align:top}
      th{background:#eef1f4}
      td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
      code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem}
      pre{background:#fff;border:1px solid var(--line);padding:1rem;overflow-x:auto}
      .tag{display:inline-block;background:#eef1f4;border:1px solid var(--line);\
      border-radius:3px;padding:0 .35rem;margin:0 .2rem .2rem 0;font-size:.85rem}
      .notice{padding:.6rem .9rem;border-radius:4px;border:1px solid}
      .notice.ok{background:#e9f6ec;border-color:var(--ok)}
      .notice.error{background:#fbeaec;border-color:var(--bad)}
      .empty{color:var(--muted);font-style:italic}
      label{display:block;font-weight:600;margin:.5rem 0 .25rem}
      input[type=text],input[type=password],input[type=search],select{font:inherit;\
      width:100%;max-width:32rem;padding:.45rem;border:1px solid var(--muted);border-radius:4px}
      .outcome-failed,.outcome-abandoned{color:var(--bad);font-weight:600}
      .outcome-reserved{color:var(--info)}
      @media (max-width:40rem){main{padding:.6rem}th,td{padding:.3rem}}
      """;
}
