package dev.jodo.kernel.platform.auth;

import dev.jodo.kernel.platform.config.Secret;

/** A freshly created token: the only moment its plaintext exists outside the caller's hands. */
public record IssuedToken(TokenRecord record, Secret token) {}
