package dev.jodo.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A Dockerfile split into instructions the way the builder reads it: comment lines dropped (also
 * inside a continued instruction), lines ending in {@code \} joined. Unknown keywords are reported
 * with their line, which is as far as a syntax check goes without a Docker engine.
 */
record DockerfileInstructions(List<Instruction> instructions, List<String> problems) {
  static final Set<String> KEYWORDS =
      Set.of(
          "FROM",
          "RUN",
          "CMD",
          "LABEL",
          "MAINTAINER",
          "EXPOSE",
          "ENV",
          "ADD",
          "COPY",
          "ENTRYPOINT",
          "VOLUME",
          "USER",
          "WORKDIR",
          "ARG",
          "ONBUILD",
          "STOPSIGNAL",
          "HEALTHCHECK",
          "SHELL");

  record Instruction(int line, String keyword, String arguments) {}

  static DockerfileInstructions parse(String text) {
    List<Instruction> instructions = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    List<String> lines = text.lines().toList();
    int i = 0;
    while (i < lines.size()) {
      String line = lines.get(i).strip();
      int start = i + 1;
      i++;
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      StringBuilder joined = new StringBuilder();
      while (line.endsWith("\\")) {
        joined.append(line, 0, line.length() - 1).append(' ');
        if (i >= lines.size()) {
          problems.add("line " + start + ": the instruction ends in '\\' at the end of the file");
          line = "";
          break;
        }
        line = lines.get(i).strip();
        i++;
        while (line.startsWith("#") && i < lines.size()) {
          line = lines.get(i).strip();
          i++;
        }
      }
      joined.append(line);
      String instruction = joined.toString().strip().replaceAll("\\s+", " ");
      int space = instruction.indexOf(' ');
      String keyword = space < 0 ? instruction : instruction.substring(0, space);
      String arguments = space < 0 ? "" : instruction.substring(space + 1);
      if (!KEYWORDS.contains(keyword)) {
        problems.add("line " + start + ": unknown instruction '" + keyword + "'");
      } else if (arguments.isEmpty()) {
        problems.add("line " + start + ": " + keyword + " has no arguments");
      }
      instructions.add(new Instruction(start, keyword, arguments));
    }
    if (!instructions.isEmpty() && !Set.of("FROM", "ARG").contains(instructions.get(0).keyword())) {
      problems.add("the first instruction must be FROM (or ARG), not " + instructions.get(0));
    }
    return new DockerfileInstructions(List.copyOf(instructions), List.copyOf(problems));
  }

  List<Instruction> all(String keyword) {
    return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
  }

  /** The instructions of stage {@code index} (0 = the first FROM), FROM included. */
  List<Instruction> stage(int index) {
    List<Instruction> stage = new ArrayList<>();
    int current = -1;
    for (Instruction instruction : instructions) {
      if (instruction.keyword().equals("FROM")) {
        current++;
      }
      if (current == index) {
        stage.add(instruction);
      }
    }
    return stage;
  }
}
