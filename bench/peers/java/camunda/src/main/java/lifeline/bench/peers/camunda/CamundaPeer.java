package lifeline.bench.peers.camunda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import lifeline.bench.peers.PeerEngine;
import lifeline.bench.peers.Scenario;
import org.camunda.bpm.engine.ProcessEngine;
import org.camunda.bpm.engine.ProcessEngineConfiguration;
import org.camunda.bpm.engine.impl.cfg.ProcessEngineConfigurationImpl;
import org.camunda.bpm.engine.task.Task;

/** CamundaPeer embedded, H2 in a file, history full, no job executor (the flow has no async step). */
public final class CamundaPeer implements PeerEngine {
  private final ProcessEngine engine;

  private CamundaPeer(Path dir) {
    ProcessEngineConfigurationImpl config = (ProcessEngineConfigurationImpl) ProcessEngineConfiguration
        .createStandaloneProcessEngineConfiguration()
        .setJdbcUrl("jdbc:h2:file:" + dir.resolve("engine").toAbsolutePath())
        .setJdbcDriver("org.h2.Driver")
        .setJdbcUsername("sa")
        .setJdbcPassword("")
        .setDatabaseSchemaUpdate(ProcessEngineConfiguration.DB_SCHEMA_UPDATE_TRUE)
        .setHistory(ProcessEngineConfiguration.HISTORY_FULL)
        .setJobExecutorActivate(false);
    // Enough pooled connections for the harness threads; the default is 10.
    config.setJdbcMaxActiveConnections(16);
    config.setMetricsEnabled(false);
    // The engine refuses a model without a history time to live; history stays full either way.
    config.setHistoryTimeToLive("P30D");
    engine = config.buildProcessEngine();
  }

  public static void main(String[] args) throws Exception {
    Path dir = System.getenv("PEER_DATA_DIR") != null ? Path.of(System.getenv("PEER_DATA_DIR")) : Files.createTempDirectory("camunda-bench-");
    Scenario.run(args, () -> new CamundaPeer(dir));
  }

  @Override public String name() { return "Camunda 7"; }
  @Override public String version() { return ProcessEngine.class.getPackage().getImplementationVersion() + ""; }
  @Override public String persistence() { return "H2 file (embedded), history full"; }

  @Override
  public void deploy(Path bpmn) throws Exception {
    engine.getRepositoryService().createDeployment()
        .addString("record-review.bpmn", Files.readString(bpmn)).deploy();
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
