package dev.jodo.kernel.testing;

/** Agents for supervision tests: tiny standard-library Python programs. */
public final class TestAgents {
  /** Serves {@code GET /health} → 200 {@code {"status":"ok"}} on {@code JODO_AGENT_PORT}. */
  public static final String HEALTHY =
      """
      import http.server, json, os

      class Handler(http.server.BaseHTTPRequestHandler):
          def log_message(self, *args):
              pass
          def do_GET(self):
              body = json.dumps({"status": "ok"}).encode()
              self.send_response(200 if self.path == "/health" else 404)
              self.send_header("Content-Length", str(len(body)))
              self.end_headers()
              self.wfile.write(body)

      port = int(os.environ["JODO_AGENT_PORT"])
      http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
      """;

  private TestAgents() {}
}
