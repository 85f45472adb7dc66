package lifeline.bench.peers;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What the scenario needs from an engine: the same five calls on every peer. */
public interface PeerEngine extends AutoCloseable {
  String name();

  String version();

  /** Where and how the engine keeps its state, said in the result row. */
  String persistence();

  void deploy(Path bpmn) throws Exception;

  /** Starts one instance for a created record; returns the instance id. */
  String start(String recordId, Map<String, Object> record);

  /** The open task of one instance, or null while none is visible. */
  String openTaskOf(String instanceId);

  /** Up to max open task ids of the candidate group. */
  List<String> openTasksOfGroup(String group, int max);

  void complete(String taskId, Map<String, Object> variables);

  long completedInstances();

  @Override
  void close();
}
