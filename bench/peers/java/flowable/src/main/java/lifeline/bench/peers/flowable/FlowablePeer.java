package lifeline.bench.peers.flowable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import lifeline.bench.peers.PeerEngine;
import lifeline.bench.peers.Scenario;
import org.flowable.common.engine.impl.history.HistoryLevel;
import org.flowable.engine.ProcessEngine;
import org.flowable.engine.ProcessEngineConfiguration;
import org.flowable.task.api.Task;

/** Flowable embedded, H2 in a file, history full, no async executor (the flow has no async step). */
public final class FlowablePeer implements PeerEngine {
  private final ProcessEngine engine;

  private FlowablePeer(Path dir) {
    ProcessEngineConfiguration config = ProcessEngineConfiguration.createStandaloneProcessEngineConfiguration();
    config.setJdbcUrl("jdbc:h2:file:" + dir.resolve("engine").toAbsolutePath());
    config.setJdbcDriver("org.h2.Driver");
    config.setJdbcUsername("sa");
    config.setJdbcPassword("");
    config.setDatabaseSchemaUpdate(ProcessEngineConfiguration.DB_SCHEMA_UPDATE_TRUE);
    config.setHistoryLevel(HistoryLevel.FULL);
    config.setAsyncExecutorActivate(false);
    // Enough pooled connections for the harness threads; the default is 10.
    config.setJdbcMaxActiveConnections(16);
    engine = config.buildProcessEngine();
  }

  public static void main(String[] args) throws Exception {
    Path dir = System.getenv("PEER_DATA_DIR") != null ? Path.of(System.getenv("PEER_DATA_DIR")) : Files.createTempDirectory("flowable-bench-");
    Scenario.run(args, () -> new FlowablePeer(dir));
  }

  @Override public String name() { return "Flowable"; }
  @Override public String version() { return ProcessEngine.VERSION; }
  @Override public String persistence() { return "H2 file (embedded), history full"; }

  @Override
  public void deploy(Path bpmn) throws Exception {
    engine.getRepositoryService().createDeployment()
        .addString("record-review.bpmn20.xml", Files.readString(bpmn)).deploy();
  }

  @Override
  public String start(String recordId, Map<String, Object> record) {
    return engine.getRuntimeService().startProcessInstanceByKey("recordReview", recordId, record).getId();
  }

  @Override
  public String openTaskOf(String instanceId) {
    Task task = engine.getTaskService().createTaskQuery().processInstanceId(instanceId).singleResult();
    return task == null ? null : task.getId();
  }

  @Override
  public List<String> openTasksOfGroup(String group, int max) {
    return engine.getTaskService().createTaskQuery().taskCandidateGroup(group).listPage(0, max)
        .stream().map(Task::getId).toList();
  }

  @Override
  public void complete(String taskId, Map<String, Object> variables) {
    engine.getTaskService().complete(taskId, variables);
  }

  @Override
  public long completedInstances() {
    return engine.getHistoryService().createHistoricProcessInstanceQuery().finished().count();
  }

  @Override
  public void close() {
    engine.close();
  }
}
