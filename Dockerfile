# Jodo Kernel image: `docker compose up -d` builds it (see docs/deployment.md).
# The kernel in this image uses the PostgreSQL named by JODO_DATABASE_URL (docker-compose.yaml
# sets it); without it the kernel would try to provision a private cluster, which this image
# cannot do (no PostgreSQL server binaries, not root).

# ---- build: the same Maven build as ./jodo, tests left to CI ----
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
# Dependencies first: this layer is rebuilt only when pom.xml or the wrapper change.
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
RUN ./mvnw -B -q dependency:go-offline
COPY src/main/ src/main/
COPY seed/ seed/
RUN ./mvnw -B -q package -Dmaven.test.skip=true -Dspotless.check.skip=true -Djacoco.skip=true

# ---- runtime: JRE 21, ssh and git for agents on other hosts, python3 for local ones ----
FROM eclipse-temurin:21-jre
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssh-client git curl ca-certificates \
       python3 \
    && rm -rf /var/lib/apt/lists/*
COPY scripts/jodo-container.sh /usr/local/bin/jodo
# A fixed uid that matches no host account, so files it owns in volumes are recognisable.
RUN chmod 755 /usr/local/bin/jodo \
    && groupadd --system --gid 10001 jodo \
    && useradd --system --uid 10001 --gid jodo --create-home --home-dir /home/jodo \
       --shell /usr/sbin/nologin jodo \
    && mkdir -p /app/var /home/jodo/.ssh \
    && chown jodo:jodo /app/var /home/jodo/.ssh \
    && chmod 700 /home/jodo/.ssh
WORKDIR /app
COPY --from=build /src/target/jodo-kernel.jar /app/jodo-kernel.jar
COPY configs/ /app/configs/
ENV JODO_HOME=/app/var \
    JODO_CONFIG_DIR=/app/configs \
    JODO_PORT=8080
VOLUME ["/app/var"]
USER jodo
EXPOSE 8080
# The first start loads the bundled embedding model and migrates the database: give it time.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${JODO_PORT}/healthz" || exit 1
ENTRYPOINT ["jodo"]
CMD ["up"]
