package lifeline.bench.peers;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The benchmark scenario, the same as Lifeline's: a record is created, an instance starts, its
 * review task appears for the group, the task is completed with a result, a gateway decides, the
 * instance ends. Prints one JSON row on stdout.
 *
 * <p>Arguments: n warmup threads latencySamples bpmnFile
 */
public final class Scenario {
  private static final String GROUP = "reviewers";

  private Scenario() {}

  public static void run(String[] args, Supplier<PeerEngine> engines) throws Exception {
    int n = Integer.parseInt(args[0]);
    int warmup = Integer.parseInt(args[1]);
    int threads = Integer.parseInt(args[2]);
    int latencySamples = Integer.parseInt(args[3]);
    Path bpmn = Path.of(args[4]);
    try (PeerEngine engine = engines.get()) {
      engine.deploy(bpmn);
      // The JIT warms up on the same path before anything is timed.
      if (warmup > 0) {
        startAll(engine, "w", warmup, threads);
        completeAll(engine, warmup, threads);
      }
      long cpu0 = cpuNanos();
      long t0 = System.nanoTime();
      startAll(engine, "r", n, threads);
      long t1 = System.nanoTime();
      long cpu1 = cpuNanos();
      completeAll(engine, n, threads);
      long t2 = System.nanoTime();
      long cpu2 = cpuNanos();
      long completed = engine.completedInstances();
      if (completed < n + warmup) {
        throw new IllegalStateException("only " + completed + " of " + (n + warmup) + " instances completed");
      }
      double[] latencies = latencies(engine, latencySamples);
      double startSeconds = (t1 - t0) / 1e9;
      double completeSeconds = (t2 - t1) / 1e9;
      Map<String, Object> row = new HashMap<>();
      row.put("engine", engine.name());
      row.put("version", engine.version());
      row.put("persistence", engine.persistence());
      row.put("n", n);
      row.put("concurrency", threads);
      row.put("startSeconds", startSeconds);
      row.put("startsPerSecond", n / startSeconds);
      row.put("completeSeconds", completeSeconds);
      row.put("completionsPerSecond", n / completeSeconds);
      row.put("startCpuSeconds", (cpu1 - cpu0) / 1e9);
      row.put("completeCpuSeconds", (cpu2 - cpu1) / 1e9);
      row.put("cpuSeconds", (cpu2 - cpu0) / 1e9);
      row.put("latencySamples", latencies.length);
      row.put("p50ms", percentile(latencies, 50));
      row.put("p99ms", percentile(latencies, 99));
      row.put("peakRssMiB", peakRssMiB());
      System.out.println(json(row));
    }
  }

  private static Map<String, Object> record(String run, int i) {
    Map<String, Object> record = new HashMap<>();
    record.put("number", "REC-" + i);
    record.put("amount", 100 + (i % 1000));
    record.put("status", "New");
    record.put("ownerId", "alice");
    return record;
  }

  private static void startAll(PeerEngine engine, String run, int n, int threads) throws Exception {
    AtomicInteger next = new AtomicInteger();
    parallel(threads, () -> {
      for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
        engine.start(run + "-" + i, record(run, i));
      }
    });
  }

  /** Pages of open tasks of the group, completed by the threads, until none is left. */
  private static void completeAll(PeerEngine engine, int n, int threads) throws Exception {
    int done = 0;
    while (done < n) {
      List<String> page = engine.openTasksOfGroup(GROUP, 500);
      if (page.isEmpty()) throw new IllegalStateException("no open task left after " + done + " of " + n);
      AtomicInteger next = new AtomicInteger();
      parallel(threads, () -> {
        for (int i = next.getAndIncrement(); i < page.size(); i = next.getAndIncrement()) {
          Map<String, Object> variables = new HashMap<>();
          variables.put("result", i % 2 == 0 ? "Approve" : "Reject");
          engine.complete(page.get(i), variables);
        }
      });
      done += page.size();
    }
  }

  /** One at a time: start, then look until the task is visible. Peers are synchronous: usually the first look. */
  private static double[] latencies(PeerEngine engine, int samples) {
    double[] out = new double[samples];
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      String instance = engine.start("l-" + i, record("l", i));
      while (engine.openTaskOf(instance) == null) Thread.onSpinWait();
      out[i] = (System.nanoTime() - t0) / 1e6;
    }
    return out;
  }

  private interface Work {
    void run() throws Exception;
  }

  private static void parallel(int threads, Work work) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Object>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) futures.add(pool.submit(() -> { work.run(); return null; }));
      for (Future<Object> f : futures) f.get();
    } finally {
      pool.shutdown();
    }
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static long peakRssMiB() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
    }
    return -1;
  }

  private static double percentile(double[] values, double p) {
    if (values.length == 0) return Double.NaN;
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(p / 100 * sorted.length))];
  }

  private static String json(Map<String, Object> row) {
    StringBuilder out = new StringBuilder("{");
    for (Map.Entry<String, Object> e : row.entrySet()) {
      if (out.length() > 1) out.append(',');
      out.append('"').append(e.getKey()).append("\":");
      Object v = e.getValue();
      if (v instanceof Number number && Double.isFinite(number.doubleValue())) out.append(v);
      else if (v instanceof Number) out.append("null");
      else out.append('"').append(String.valueOf(v).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    }
    return out.append('}').toString();
  }
}
