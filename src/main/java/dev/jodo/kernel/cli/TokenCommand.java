package dev.jodo.kernel.cli;

import dev.jodo.kernel.platform.auth.AdminTokenFile;
import dev.jodo.kernel.platform.auth.IssuedToken;
import dev.jodo.kernel.platform.auth.Scope;
import dev.jodo.kernel.platform.auth.TokenException;
import dev.jodo.kernel.platform.auth.TokenRecord;
import dev.jodo.kernel.platform.auth.TokenService;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "token",
    description = "Show the admin token (or --rotate it); create, list and revoke agent tokens.",
    subcommands = {
      TokenCommand.Create.class,
      TokenCommand.ListTokens.class,
      TokenCommand.Revoke.class
    })
final class TokenCommand implements Callable<Integer> {
  private final CliContext context;

  @Option(names = "--rotate", description = "Replace the admin token; the old one stops working.")
  boolean rotate;

  TokenCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    KernelConfig config = context.configOrReport();
    if (config == null) {
      return Cli.USAGE;
    }
    AdminTokenFile file = new AdminTokenFile(config.home());
    if (config.adminToken().isPresent()) {
      if (rotate) {
        context
            .err()
            .println(
                "the admin token is set by JODO_ADMIN_TOKEN; change that variable and restart instead");
        return Cli.FAILED;
      }
      context
          .out()
          .println(
              "the admin token is set by JODO_ADMIN_TOKEN ("
                  + config.adminToken().get().masked()
                  + ")");
      return Cli.OK;
    }
    if (rotate) {
      try (CliDatabase db = CliDatabase.open(config, context.out())) {
        Secret token =
            new TokenService(db.database().dataSource(), Optional.empty()).rotateAdminToken();
        file.write(token);
        context.out().println(token.value());
        context
            .err()
            .println("admin token rotated; the old one is refused (by other kernels within 5 s)");
        return Cli.OK;
      }
    }
    Optional<Secret> token = file.read();
    if (token.isEmpty()) {
      context
          .err()
          .println(
              "no admin token is stored in "
                  + file.path()
                  + "; it is created on the kernel's first start (`jodo up`), or make a new one"
                  + " with `jodo token --rotate`");
      return Cli.FAILED;
    }
    context.out().println(token.get().value());
    return Cli.OK;
  }

  @Command(name = "create", description = "Create an agent token; it is shown once.")
  static final class Create implements Callable<Integer> {
    private final CliContext context;

    @Option(names = "--agent", required = true, description = "The agent's name.")
    String agent;

    @Option(
        names = "--scopes",
        required = true,
        split = ",",
        description = "Comma-separated: think, memory, budget, status, genesis, commit, history, …")
    List<String> scopes;

    Create(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      Set<Scope> parsed = EnumSet.noneOf(Scope.class);
      for (String name : scopes) {
        Optional<Scope> scope = Scope.parse(name);
        if (scope.isEmpty()) {
          context
              .err()
              .println("--scopes: '" + name + "' is not a scope; use " + Scope.grantable());
          return Cli.USAGE;
        }
        parsed.add(scope.get());
      }
      try {
        return withTokens(
            context,
            tokens -> {
              IssuedToken issued = tokens.createAgentToken(agent, parsed);
              context.out().println(issued.token().value());
              context
                  .err()
                  .println(
                      "token "
                          + issued.record().id()
                          + " for agent "
                          + agent
                          + " with scopes "
                          + scopeList(issued.record().scopes())
                          + " (shown once; store it now)");
              return Cli.OK;
            });
      } catch (TokenException e) {
        context.err().println(e.getMessage());
        return Cli.USAGE;
      }
    }
  }

  @Command(name = "list", description = "List tokens (never their values).")
  static final class ListTokens implements Callable<Integer> {
    private final CliContext context;

    ListTokens(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      return withTokens(
          context,
          service -> {
            List<TokenRecord> tokens = service.list();
            context
                .out()
                .printf(
                    "%-5s %-6s %-16s %-20s %-9s %s%n",
                    "ID", "KIND", "AGENT", "PREFIX", "STATE", "SCOPES");
            for (TokenRecord t : tokens) {
              context
                  .out()
                  .printf(
                      "%-5d %-6s %-16s %-20s %-9s %s%n",
                      t.id(),
                      t.kind(),
                      t.agent().orElse("-"),
                      t.prefix(),
                      t.revokedAt().isPresent() ? "revoked" : "live",
                      t.kind().equals("admin") ? "all" : scopeList(t.scopes()));
            }
            return Cli.OK;
          });
    }
  }

  @Command(name = "revoke", description = "Revoke an agent token by id.")
  static final class Revoke implements Callable<Integer> {
    private final CliContext context;

    @Parameters(index = "0", description = "The token's id (see `jodo token list`).")
    long id;

    Revoke(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      return withTokens(
          context,
          tokens -> {
            if (!tokens.revokeAgentToken(id)) {
              context.err().println("no live agent token with id " + id);
              return Cli.FAILED;
            }
            context.out().println("revoked token " + id);
            return Cli.OK;
          });
    }
  }

  /** Runs {@code action} against the configured database, started for the command if needed. */
  private static int withTokens(CliContext context, ToIntFunction<TokenService> action) {
    KernelConfig config = context.configOrReport();
    if (config == null) {
      return Cli.USAGE;
    }
    try (CliDatabase db = CliDatabase.open(config, context.out())) {
      return action.applyAsInt(new TokenService(db.database().dataSource(), config.adminToken()));
    }
  }

  private static String scopeList(Set<Scope> scopes) {
    return scopes.stream().map(Scope::wireName).sorted().collect(Collectors.joining(","));
  }
}
