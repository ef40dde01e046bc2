#!/bin/sh
# `jodo` inside the kernel's container image (installed as /usr/local/bin/jodo by the Dockerfile).
# Runs the jar with the same JVM flags as the ./jodo launcher, which the image has no use for
# otherwise (no JDK search, no build):
#   docker compose exec kernel jodo token        the admin token
#   docker compose exec kernel jodo config check
set -eu

JAR=/app/jodo-kernel.jar

# Lucene's vector search uses the Panama vector module; only the kernel itself (`up`) needs it,
# and leaving it out elsewhere keeps the JDK's incubator warning off the other commands' output.
if [ "${1:-}" = "up" ]; then
  # shellcheck disable=SC2086 # JODO_JAVA_OPTS holds several options, split on spaces as ./jodo does
  exec java --add-modules jdk.incubator.vector ${JODO_JAVA_OPTS:-} -jar "$JAR" "$@"
fi
# shellcheck disable=SC2086
exec java ${JODO_JAVA_OPTS:-} -jar "$JAR" "$@"
