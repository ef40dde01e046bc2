package dev.jodo.kernel.platform.auth;

import java.util.EnumSet;
import java.util.Set;

/** Who is calling: the admin, or a named agent with its scopes. */
public record Principal(String name, boolean admin, Set<Scope> scopes) {
  public static final String ADMIN_NAME = "admin";

  public Principal {
    scopes = scopes.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(scopes));
  }

  public static Principal administrator() {
    return new Principal(ADMIN_NAME, true, EnumSet.allOf(Scope.class));
  }

  public boolean allows(Scope scope) {
    return admin || (scope != Scope.ADMIN && scopes.contains(scope));
  }
}
