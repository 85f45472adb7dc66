/** One row of the side-by-side scenario: the same fields from every engine (Java harnesses print the same JSON). */
export interface ScenarioRow {
  engine: string;
  version: string;
  persistence: string;
  n: number;
  concurrency: number;
  startSeconds: number;
  startsPerSecond: number;
  completeSeconds: number;
  completionsPerSecond: number;
  /** CPU seconds of the engine's process during the start and the completion phase. */
  startCpuSeconds: number;
  completeCpuSeconds: number;
  cpuSeconds: number;
  latencySamples: number;
  /** Start request to task visible, one instance at a time. */
  p50ms: number;
  p99ms: number;
  peakRssMiB: number;
  note?: string;
}

/** The scenario's parameters, the same for every engine in one run. */
export interface ScenarioOptions {
  n: number;
  warmup: number;
  concurrency: number;
  latencySamples: number;
}

export const REVIEWERS = 'reviewers';

/** The record every engine receives when a record is created. */
export const recordOf = (i: number) => ({
  number: `REC-${i}`,
  amount: 100 + (i % 1000),
  status: 'New',
  ownerId: 'alice',
});

/** Alternate results, so both branches of the decision run. */
export const resultOf = (i: number): 'Approve' | 'Reject' => (i % 2 === 0 ? 'Approve' : 'Reject');

export function parseScenarioArgs(argv: readonly string[]): ScenarioOptions & { bpmn: string } {
  const [n, warmup, concurrency, latencySamples, bpmn] = argv;
  if (bpmn === undefined) throw new Error('arguments: n warmup concurrency latencySamples bpmnFile');
  return {
    n: Number(n),
    warmup: Number(warmup),
    concurrency: Number(concurrency),
    latencySamples: Number(latencySamples),
    bpmn,
  };
}
