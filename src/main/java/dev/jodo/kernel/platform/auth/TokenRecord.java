package dev.jodo.kernel.platform.auth;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/** A stored token as listed to the admin: never the token itself, only its display prefix. */
public record TokenRecord(
    long id,
    String kind,
    Optional<String> agent,
    String prefix,
    Set<Scope> scopes,
    Instant createdAt,
    Optional<Instant> revokedAt) {}
