package dev.jodo.kernel.platform.db;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The operating-system account that initdb, pg_ctl and the server run as. PostgreSQL refuses to run
 * as root, so a kernel running as root uses the unprivileged system user {@code jodo-postgres},
 * which must own the data directory and be able to reach it.
 */
sealed interface ServerAccount permits ServerAccount.CurrentUser, ServerAccount.SystemUser {
  String SYSTEM_USER = "jodo-postgres";

  /** The account for this process: itself, or (when root) the system user, created if missing. */
  static ServerAccount forThisProcess() {
    return isRoot() ? SystemUser.ensureExists(SYSTEM_USER) : new CurrentUser();
  }

  static boolean isRoot() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
      // "Uid:	real	effective	saved	filesystem"
      return lines
          .filter(line -> line.startsWith("Uid:"))
          .map(line -> line.substring(4).strip().split("\\s+"))
          .anyMatch(ids -> ids.length > 1 && ids[1].equals("0"));
    } catch (IOException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  /** The command line that runs command as this account. */
  List<String> command(List<String> command);

  /** Makes this account the owner of path and, if that changes anything, of all beneath it. */
  void own(Path path);

  /** Fails with the directory to fix unless this account can traverse every part of dir. */
  void checkCanReach(Path dir);

  record CurrentUser() implements ServerAccount {
    @Override
    public List<String> command(List<String> command) {
      return command;
    }

    @Override
    public void own(Path path) {}

    @Override
    public void checkCanReach(Path dir) {}
  }

  record SystemUser(String name, List<String> switchUser) implements ServerAccount {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    public SystemUser {
      switchUser = List.copyOf(switchUser);
    }

    static SystemUser ensureExists(String name) {
      if (lookup(name).isEmpty()) {
        Path useradd =
            Subprocess.which("useradd")
                .orElseThrow(
                    () ->
                        new LocalPostgresException(
                            "PostgreSQL refuses to run as root and the user "
                                + name
                                + " does not exist; create it with: useradd --system"
                                + " --no-create-home --shell /usr/sbin/nologin "
                                + name));
        Subprocess.Result result =
            Subprocess.run(
                "useradd",
                List.of(
                    useradd.toString(),
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    name),
                TIMEOUT);
        // Another process may have created the user at the same moment.
        if (!result.succeeded() && lookup(name).isEmpty()) {
          throw new LocalPostgresException(
              "could not create the system user "
                  + name
                  + " (useradd exit "
                  + result.exitCode()
                  + "): "
                  + result.tail());
        }
      }
      return new SystemUser(name, switchUserCommand(name));
    }

    @Override
    public List<String> command(List<String> command) {
      List<String> full = new ArrayList<>(switchUser);
      full.addAll(command);
      return full;
    }

    @Override
    public void own(Path path) {
      UserPrincipalLookupService lookup = FileSystems.getDefault().getUserPrincipalLookupService();
      try {
        UserPrincipal user = lookup.lookupPrincipalByName(name);
        Optional<GroupPrincipal> group = group(lookup);
        if (user.equals(Files.getOwner(path, LinkOption.NOFOLLOW_LINKS))) {
          return;
        }
        try (Stream<Path> tree = Files.walk(path)) {
          for (Path file : (Iterable<Path>) tree::iterator) {
            PosixFileAttributeView view =
                Files.getFileAttributeView(
                    file, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            view.setOwner(user);
            if (group.isPresent()) {
              view.setGroup(group.get());
            }
          }
        }
      } catch (IOException e) {
        throw new LocalPostgresException(
            "cannot give " + path + " to the user " + name + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void checkCanReach(Path dir) {
      if (canTraverse(dir)) {
        return;
      }
      List<Path> ancestors = new ArrayList<>();
      for (Path part = dir; part != null; part = part.getParent()) {
        ancestors.addFirst(part);
      }
      Path blocked = ancestors.stream().filter(part -> !canTraverse(part)).findFirst().orElse(dir);
      throw new LocalPostgresException(
          "PostgreSQL runs as the unprivileged user "
              + name
              + ", which cannot reach "
              + blocked
              + " (no search permission); set JODO_HOME to a directory that other users can"
              + " reach, e.g. /var/lib/jodo");
    }

    private boolean canTraverse(Path dir) {
      Subprocess.Result result =
          Subprocess.run(
              "test -x as " + name, command(List.of("test", "-x", dir.toString())), TIMEOUT);
      // test itself prints nothing; any output is runuser or setpriv failing.
      if (!result.output().isBlank()) {
        throw new LocalPostgresException(
            "cannot run commands as the user " + name + ": " + result.tail());
      }
      return result.succeeded();
    }

    private Optional<GroupPrincipal> group(UserPrincipalLookupService lookup) throws IOException {
      try {
        return Optional.of(lookup.lookupPrincipalByGroupName(name));
      } catch (UserPrincipalNotFoundException e) {
        return Optional.empty();
      }
    }

    private static Optional<UserPrincipal> lookup(String name) {
      try {
        return Optional.of(
            FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(name));
      } catch (UserPrincipalNotFoundException e) {
        return Optional.empty();
      } catch (IOException e) {
        throw new LocalPostgresException(
            "cannot look up the user " + name + ": " + e.getMessage(), e);
      }
    }

    private static List<String> switchUserCommand(String name) {
      Optional<Path> runuser = Subprocess.which("runuser");
      if (runuser.isPresent()) {
        return List.of(runuser.get().toString(), "-u", name, "--");
      }
      Optional<Path> setpriv = Subprocess.which("setpriv");
      if (setpriv.isPresent()) {
        return List.of(
            setpriv.get().toString(), "--reuid=" + name, "--regid=" + name, "--init-groups", "--");
      }
      throw new LocalPostgresException(
          "PostgreSQL refuses to run as root and neither runuser nor setpriv (util-linux) is"
              + " installed; install util-linux or run the kernel as an unprivileged user");
    }
  }
}
