package dev.jodo.kernel.platform.db;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** One PostgreSQL server installation: the programs LocalPostgres runs, as real paths. */
record PostgresBinaries(Path initdb, Path pgCtl, Path postgres, String version) {
  static final String DEFAULT_SEARCH = "PATH, /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin";

  private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\)\\s+(\\d+(?:\\.\\d+)*)");
  private static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");
  private static final Path SOURCE_BUILD_BIN = Path.of("/usr/local/pgsql/bin");
  private static final Duration VERSION_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration APT_TIMEOUT = Duration.ofMinutes(10);

  /** "15" for 15.4, "9.6" for 9.6.24: the part a data directory's PG_VERSION records. */
  String majorVersion() {
    String[] parts = version.split("\\.");
    return Integer.parseInt(parts[0]) < 10 && parts.length > 1
        ? parts[0] + "." + parts[1]
        : parts[0];
  }

  /** PATH, then /usr/lib/postgresql/VERSION/bin newest first, then /usr/local/pgsql/bin. */
  static List<Path> defaultSearchPath() {
    List<Path> dirs = new ArrayList<>();
    for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!entry.isBlank()) {
        dirs.add(Path.of(entry));
      }
    }
    if (Files.isDirectory(DEBIAN_ROOT)) {
      try (Stream<Path> versions = Files.list(DEBIAN_ROOT)) {
        versions
            .sorted(Comparator.comparing(PostgresBinaries::versionKey, Arrays::compare).reversed())
            .forEach(dir -> dirs.add(dir.resolve("bin")));
      } catch (IOException e) {
        // An unreadable /usr/lib/postgresql just means no binaries there.
      }
    }
    dirs.add(SOURCE_BUILD_BIN);
    return dirs;
  }

  /** Every installation in dirs that has initdb, pg_ctl and postgres, in search order. */
  static List<PostgresBinaries> installed(List<Path> dirs) {
    List<PostgresBinaries> found = new ArrayList<>();
    Set<Path> seen = new HashSet<>();
    for (Path dir : dirs) {
      Optional<List<Path>> programs = programsIn(dir);
      if (programs.isPresent() && seen.add(programs.get().get(2))) {
        List<Path> p = programs.get();
        found.add(new PostgresBinaries(p.get(0), p.get(1), p.get(2), versionOf(p.get(2))));
      }
    }
    return found;
  }

  /** The first of found that can run the cluster in layout: a cluster needs its own major. */
  static PostgresBinaries forCluster(List<PostgresBinaries> found, ClusterLayout layout) {
    Optional<String> clusterVersion = layout.clusterVersion();
    if (clusterVersion.isEmpty()) {
      return found.getFirst();
    }
    String major = clusterVersion.get();
    return found.stream()
        .filter(candidate -> candidate.majorVersion().equals(major))
        .findFirst()
        .orElseThrow(
            () ->
                new LocalPostgresException(
                    "the cluster in "
                        + layout.data()
                        + " was created by PostgreSQL "
                        + major
                        + " but only PostgreSQL "
                        + found.stream()
                            .map(b -> b.version() + " (" + b.postgres().getParent() + ")")
                            .collect(Collectors.joining(", "))
                        + " was found; install version "
                        + major
                        + " with: "
                        + installHint(Optional.of(major))));
  }

  static boolean canInstall() {
    return ServerAccount.isRoot() && Subprocess.which("apt-get").isPresent();
  }

  static void installWithAptGet(Consumer<String> progress) {
    progress.accept("installing PostgreSQL with apt-get (one time, ~1 min)…");
    String aptGet = Subprocess.which("apt-get").orElseThrow().toString();
    Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive");
    List<String> install = List.of(aptGet, "install", "-y", "postgresql");
    if (Subprocess.run("apt-get install", install, env, APT_TIMEOUT).succeeded()) {
      return;
    }
    // A fresh container has no package lists yet; "Unable to locate package" is the usual cause.
    Subprocess.Result update =
        Subprocess.run("apt-get update", List.of(aptGet, "update"), env, APT_TIMEOUT);
    if (!update.succeeded()) {
      throw new LocalPostgresException(
          "apt-get update failed (exit " + update.exitCode() + "): " + update.tail());
    }
    Subprocess.Result retry = Subprocess.run("apt-get install", install, env, APT_TIMEOUT);
    if (!retry.succeeded()) {
      throw new LocalPostgresException(
          "installing PostgreSQL with apt-get failed (exit "
              + retry.exitCode()
              + "): "
              + retry.tail());
    }
  }

  /** The command that installs server binaries on this machine (a given major version if set). */
  static String installHint(Optional<String> major) {
    String suffix = major.map(v -> "-" + v).orElse("");
    if (Subprocess.which("apt-get").isPresent()) {
      return "sudo apt-get install -y postgresql" + suffix;
    }
    if (Subprocess.which("dnf").isPresent()) {
      return "sudo dnf install -y postgresql-server";
    }
    if (Subprocess.which("brew").isPresent()) {
      return "brew install postgresql" + major.map(v -> "@" + v).orElse("");
    }
    return "your package manager (the PostgreSQL server package), then put its bin directory on"
        + " PATH";
  }

  private static Optional<List<Path>> programsIn(Path dir) {
    List<Path> programs = new ArrayList<>();
    for (String name : List.of("initdb", "pg_ctl", "postgres")) {
      Path program = dir.resolve(name);
      if (!Files.isRegularFile(program) || !Files.isExecutable(program)) {
        return Optional.empty();
      }
      try {
        // PATH often holds symlinks; the real directory is what the server user must reach.
        programs.add(program.toRealPath());
      } catch (IOException e) {
        return Optional.empty();
      }
    }
    return Optional.of(programs);
  }

  private static String versionOf(Path postgres) {
    Subprocess.Result result =
        Subprocess.run(
            "postgres --version", List.of(postgres.toString(), "--version"), VERSION_TIMEOUT);
    Matcher matcher = VERSION.matcher(result.output());
    if (!result.succeeded() || !matcher.find()) {
      throw new LocalPostgresException(
          "cannot tell the version of "
              + postgres
              + " (exit "
              + result.exitCode()
              + "): "
              + result.tail());
    }
    return matcher.group(1);
  }

  /** "9.6" as [9, 6], so 15 sorts after 9.6; a part that is not a number counts as 0. */
  private static int[] versionKey(Path dir) {
    return Arrays.stream(dir.getFileName().toString().split("\\."))
        .mapToInt(part -> part.matches("\\d{1,9}") ? Integer.parseInt(part) : 0)
        .toArray();
  }
}
