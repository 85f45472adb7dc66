package dev.lifeline.bpmn;

import java.io.File;
import org.camunda.bpm.model.bpmn.Bpmn;

/** Reads each BPMN file with Camunda's BPMN model API, which validates it against the OMG BPMN 2.0 XSD. */
public final class SchemaCheck {
  public static void main(String[] args) {
    int valid = 0;
    int invalid = 0;
    for (String path : args) {
      try {
        Bpmn.validateModel(Bpmn.readModelFromFile(new File(path)));
        valid++;
      } catch (RuntimeException e) {
        invalid++;
        Throwable cause = e;
        while (cause.getCause() != null) cause = cause.getCause();
        System.out.println("INVALID " + new File(path).getName() + ": " + cause.getMessage());
      }
    }
    System.out.println(valid + " valid, " + invalid + " invalid");
    System.exit(invalid == 0 ? 0 : 1);
  }
}
