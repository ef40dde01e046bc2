package dev.jodo.kernel.gateway.provider;

import java.io.InputStream;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A response whose headers arrived; the body is still on the wire. Closing the body before its end
 * drops the connection, reading it to the end returns the connection to its pool.
 *
 * @param headers lower-case names; repeated headers joined with ", "
 */
record Http1Response(int status, Map<String, String> headers, InputStream body) {
  Http1Response {
    headers = Map.copyOf(headers);
  }

  Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
  }
}
