package dev.jodo.kernel.memory.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code memory/labelled-memories.json}: memories an agent might keep and paraphrased questions
 * whose right answer (a memory's exact text) is known.
 */
public record LabelledMemories(List<String> memories, List<Question> questions) {
  public record Question(String query, String answer) {}

  public LabelledMemories {
    memories = List.copyOf(memories);
    questions = List.copyOf(questions);
  }

  public static LabelledMemories load() {
    String resource = "/memory/labelled-memories.json";
    try (InputStream in = LabelledMemories.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not on the test classpath");
      }
      JsonNode root = new ObjectMapper().readTree(in);
      List<String> memories = new ArrayList<>();
      root.path("memories").forEach(m -> memories.add(m.asText()));
      List<Question> questions = new ArrayList<>();
      for (JsonNode q : root.path("queries")) {
        String answer = q.path("answer").asText();
        if (!memories.contains(answer)) {
          throw new IllegalStateException(resource + ": '" + answer + "' is not a memory");
        }
        questions.add(new Question(q.path("query").asText(), answer));
      }
      return new LabelledMemories(memories, questions);
    } catch (IOException e) {
      throw new UncheckedIOException(resource, e);
    }
  }
}
