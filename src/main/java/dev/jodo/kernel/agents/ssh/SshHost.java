package dev.jodo.kernel.agents.ssh;

import static dev.jodo.kernel.agents.ssh.SshConnection.quote;

import dev.jodo.kernel.agents.AgentHost;
import dev.jodo.kernel.agents.AgentHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * An agent's machine reached over SSH ({@link SshConnection}), doing what {@code LocalHost} does
 * locally with plain POSIX shell commands there: the agent starts under {@code setsid} (its own
 * session and process group) with {@code env -i} and exactly the environment given, its output
 * appended to its log, its pid written to its pid file.
 *
 * <p>The environment (it holds the agent's token) never goes on a command line, where {@code ps}
 * would show it: it travels on the command's standard input into a new {@code agent.env} beside the
 * pid file, readable by the SSH user only; the agent's shell reads it, deletes it and becomes the
 * agent, so the token does not stay on the host's disk.
 */
public final class SshHost implements AgentHost {
  /**
   * {@code alive PID}: the process exists and is not a zombie (an exited agent whose new parent has
   * not reaped it yet still answers {@code kill -0}).
   */
  private static final String ALIVE =
      "alive() { kill -0 \"$1\" 2>/dev/null"
          + " && [ \"$(sed 's/.*) //' /proc/\"$1\"/stat 2>/dev/null | cut -c1)\" != Z ]; }; ";

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private final SshConnection ssh;

  public SshHost(SshConnection ssh) {
    this.ssh = ssh;
  }

  @Override
  public String address() {
    return ssh.host();
  }

  @Override
  public long start(Launch launch) {
    for (String name : launch.environment().keySet()) {
      // Names go into the script as they are (values are quoted): only plain names are safe.
      if (!ENV_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("not a valid environment variable name: " + name);
      }
    }
    Path envFile = launch.pidFile().resolveSibling("agent.env");
    String env =
        launch.environment().entrySet().stream()
            .sorted(Map.Entry.comparingByKey())
            .map(e -> "export " + e.getKey() + "=" + quote(e.getValue()) + "\n")
            .collect(Collectors.joining());
    String command = String.join(" ", launch.command().stream().map(SshConnection::quote).toList());
    String pidFile = quote(launch.pidFile().toString());
    String script =
        "set -e; mkdir -p "
            + quote(launch.log().getParent().toString())
            + " "
            + quote(launch.pidFile().getParent().toString())
            + "; (umask 077; rm -f "
            + quote(envFile.toString())
            + "; cat > "
            + quote(envFile.toString())
            + "); cd "
            + quote(launch.directory().toString())
            + "; setsid env -i /bin/sh -c '. \"$0\"; rm -f \"$0\"; exec \"$@\"' "
            + quote(envFile.toString())
            + " "
            + command
            + " >> "
            + quote(launch.log().toString())
            + " 2>&1 < /dev/null & pid=$!; echo $pid > "
            + pidFile
            + ".tmp; mv "
            + pidFile
            + ".tmp "
            + pidFile
            + "; echo $pid";
    String out = ssh.check("starting " + command, script, env.getBytes(StandardCharsets.UTF_8));
    try {
      return Long.parseLong(out.strip());
    } catch (NumberFormatException e) {
      throw new AgentHostException(
          "ssh " + ssh.host() + ": starting " + command + " printed no pid: " + out.strip());
    }
  }

  @Override
  public Optional<Long> running(Path pidFile, Path directory) {
    SshConnection.Result result =
        ssh.exec(
            ALIVE
                + "pid=$(cat "
                + quote(pidFile.toString())
                + " 2>/dev/null) && alive \"$pid\""
                + " && [ \"$(readlink /proc/$pid/cwd)\" = \"$(readlink -f "
                + quote(directory.toString())
                + ")\" ] && echo \"$pid\"",
            null);
    if (!result.ok()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Long.parseLong(result.stdout().strip()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Override
  public boolean isAlive(long pid) {
    return pid > 0 && ssh.exec(ALIVE + "alive " + pid, null).ok();
  }

  @Override
  public void stop(long pid, Duration grace) {
    if (pid <= 0) {
      return;
    }
    long tenths = Math.max(1, grace.toMillis() / 100);
    ssh.exec(
        ALIVE
            + "kill -TERM -"
            + pid
            + " 2>/dev/null || kill -TERM "
            + pid
            + " 2>/dev/null; i=0; while alive "
            + pid
            + " && [ $i -lt "
            + tenths
            + " ]; do sleep 0.1; i=$((i+1)); done; kill -KILL -"
            + pid
            + " 2>/dev/null; i=0; while alive "
            + pid
            + " && [ $i -lt 10 ]; do sleep 0.1; i=$((i+1)); done; true",
        null,
        ssh.timeout().plus(grace).plusSeconds(1));
  }

  @Override
  public boolean exists(Path file) {
    return ssh.exec("test -e " + quote(file.toString()), null).ok();
  }

  @Override
  public void write(Path file, byte[] content) {
    String target = quote(file.toString());
    ssh.check(
        "writing " + file,
        "mkdir -p "
            + quote(file.getParent().toString())
            + " && cat > "
            + target
            + ".tmp && mv "
            + target
            + ".tmp "
            + target,
        content);
  }

  @Override
  public void close() {
    ssh.close();
  }
}
