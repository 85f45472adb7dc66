/**
 * The engine's pure per-entity-event work, without a store: validate the envelope, decide the
 * reactions to its EntityEventRecorded and fold it into the record's state, decide the start of
 * `invoice-approval` (one instance, one task) and derive its event ids, decode the appended events
 * as the reactor does. Prints CPU µs per entity event for each step and for all of them (and validateEnvelope alone
 * on envelopes already parsed, as over HTTP, outside the total), GC
 * included (each step keeps its results, as the engine does until the unit commits). Not a test.
 * Run: `npm run -s build && node dist/bench/engine-domain.bench.js` (BENCH_N=20000, BENCH_ROUNDS=9).
 */
import {
  concernsReactions,
  decideReactions,
  decodeEvent,
  definitionsStateOf,
  evolveRecord,
  instanceDecider,
  parseDefinition,
  SYSTEM,
  validateEnvelope,
  type LoggedEvent,
  type Reaction,
} from '@lifeline/process-domain';
import { INVOICE_APPROVAL_YAML } from '@lifeline/process-domain/testing';
import { eventIdsFor, timeOrderedUuid } from '@lifeline/engine';
import { markdownTable } from './lib/measure';
import { invoiceEnvelope } from './lib/invoice-envelope';

const definition = parseDefinition(INVOICE_APPROVAL_YAML, 'application/yaml');
const definitions = definitionsStateOf([
  { key: definition.key, version: 1, definition, enabled: true, executionOrder: definition.executionOrder },
]);
const context = { idFor: timeOrderedUuid };

const envelopeText = (run: string, i: number): string =>
  JSON.stringify(invoiceEnvelope(run, i, {}, '2026-11-30T12:00:00.000Z'));

type Step = (i: number) => unknown;

function cpuMicros(n: number, step: Step): number {
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) step(i);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

function round(n: number, run: string): number[] {
  const at = new Date(Date.UTC(2026, 10, 30, 12, 0, 0, 0)).toISOString();
  const texts = Array.from({ length: n }, (_, i) => envelopeText(run, i));
  const logged: LoggedEvent[] = new Array(n);
  const starts: (Reaction & { type: 'StartInstance' })[] = new Array(n);
  const decided: { type: string; data: unknown }[][] = new Array(n);
  const kept: unknown[] = new Array(n);
  const parsed = texts.map((text) => JSON.parse(text) as unknown);
  // validateEnvelope alone, on envelopes already parsed (the HTTP path): not summed into the total.
  const validateOnly = cpuMicros(n, (i) => {
    const checked = validateEnvelope(parsed[i]);
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    kept[i] = checked.envelope;
  });
  const times = [
    cpuMicros(n, (i) => {
      const checked = validateEnvelope(JSON.parse(texts[i]!));
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      logged[i] = {
        id: timeOrderedUuid(`entity-event:${checked.envelope.id}`, at),
        streamId: `entity-Invoice-${checked.envelope.entityId}`,
        at,
        correlationId: 'c',
        event: { type: 'EntityEventRecorded', data: { envelope: checked.envelope, source: { kind: 'http' } } },
      };
    }),
    cpuMicros(n, (i) => {
      const reactions = decideReactions(logged[i]!, { definitions, record: undefined }, context);
      if (reactions.length !== 1 || reactions[0]!.type !== 'StartInstance') throw new Error('one start expected');
      starts[i] = reactions[0];
      kept[i] = evolveRecord(undefined, logged[i]!);
    }),
    cpuMicros(n, (i) => {
      const start = starts[i]!;
      const decision = instanceDecider.decideState!(instanceDecider.initialState(), start.command, {
        now: at,
        actor: SYSTEM,
        definition,
        definitionVersion: 1,
        entityData: start.entityData,
        entityEventId: start.entityEventId!,
      });
      decided[i] = decision.events;
      kept[i] = decision.state;
    }),
    cpuMicros(n, (i) => {
      const events = decided[i]!;
      const ids = eventIdsFor(starts[i]!.origin.commandId, events.length, 0, at);
      let concerning = 0;
      for (const event of events) if (concernsReactions(decodeEvent(event))) concerning++;
      kept[i] = [ids, concerning];
    }),
  ];
  return [validateOnly, ...times, times.reduce((a, b) => a + b, 0)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const n = Number(process.env.BENCH_N ?? 20_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
  round(2_000, 'warm');
  const results: number[][] = [];
  for (let r = 1; r <= rounds; r++) results.push(round(n, `r${r}`));
  const rows = results.map((times, r) => [String(r + 1), ...times.map((us) => us.toFixed(2))]);
  // Other load on the machine only adds: the median of each column is the figure to compare.
  rows.push(['median', ...results[0]!.map((_, c) => median(results.map((times) => times[c]!)).toFixed(2))]);
  console.log(
    markdownTable(
      [
        'round',
        'validateEnvelope alone µs',
        'parse + validate µs',
        'reactions + evolveRecord µs',
        'start decision µs',
        'ids + decode µs',
        'total µs',
      ],
      ['r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  );
}

main();
