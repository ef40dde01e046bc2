package dev.jodo.kernel.cli;

import dev.jodo.kernel.platform.config.ConfigException;
import dev.jodo.kernel.platform.config.ConfigLoader;
import dev.jodo.kernel.platform.config.KernelConfig;
import dev.jodo.kernel.platform.config.Secret;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/** What every command needs: the environment it runs in and where to write. */
record CliContext(Map<String, String> env, PrintWriter out, PrintWriter err) {

  ConfigLoader loader() {
    return new ConfigLoader(env);
  }

  Path home() {
    return loader().home();
  }

  /** The only place the first boot's admin token is printed: the user's terminal. */
  void printFirstBootToken(Secret token) {
    out.println(
        "admin token (shown once here; `./jodo token` shows it again on this machine): "
            + token.value());
  }

  /** The validated config, or null after printing every problem to {@code err}. */
  KernelConfig configOrReport() {
    try {
      return loader().load();
    } catch (ConfigException e) {
      err.println(e.getMessage());
      err.println("fix these and try again; `jodo config check` lists them without starting.");
      return null;
    }
  }
}
