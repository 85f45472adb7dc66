/**
 * Lifeline at scale, the rows the side-by-side run is too short for. Not a test. Run after `npm run build`:
 *   node dist/bench/peers/lifeline-scale.js [openTasks=1000000] [instances=100000,300000] [replayEvents=200000]
 * 1. Task-list p50/p99 for one user with `openTasks` open tasks of their own, the read model filled
 *    through the Projector with synthetic events (as bench/replay.bench.ts does), then listTasks.
 * 2. The embedded server's RSS after each count of started (open) instances: it keeps no per-instance
 *    state in memory, so RSS should stay flat while the count grows.
 * 3. Replay speed: a synthetic log rebuilt into the read models, events/s and events per CPU second.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '@lifeline/event-store';
import {
  allProjections,
  Projector,
  ReadModelDb,
  rebuildReadModels,
  listTasks,
  type TaskViewer,
} from '@lifeline/read-models';
import { syntheticLog } from '@lifeline/read-models/testing';
import { bearer, LifelineProcess, ROOT } from '../lib/lifeline-server';
import { markdownTable, percentile, sleep } from '../lib/measure';
import { postRecords, publishDefinition } from './lifeline-peer';
import { REVIEWERS } from './scenario';

function taskListLatency(openTasks: number): { p50ms: number; p99ms: number; fillSeconds: number } {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-scale-tasks-'));
  try {
    const db = ReadModelDb.open(join(dir, 'read-models.sqlite'), { bulk: true });
    const projector = new Projector(db, allProjections());
    const at = '2026-11-21T10:00:00.000Z';
    let position = 0;
    const event = (type: string, data: unknown, when = at): StoredEvent => {
      position += 1;
      const id = `e-${position}`;
      return {
        id,
        type,
        data,
        streamId: 'instance-big',
        revision: position - 1,
        position,
        metadata: { messageId: id, correlationId: id, causationId: id, actor: 'system', at: when },
      };
    };
    const started = performance.now();
    projector.applyBatch([
      event('InstanceStarted', {
        instanceId: 'big',
        definitionKey: 'record-review',
        definitionVersion: 1,
        definitionName: 'Record review',
        entity: { type: 'BenchRecord', id: 'REC-1' },
        variables: {},
        cause: { kind: 'api' },
      }),
    ]);
    for (let done = 0; done < openTasks;) {
      const batch: StoredEvent[] = [];
      for (let i = 0; i < 20_000 && done < openTasks; i++, done++) {
        const created = new Date(Date.parse(at) + done * 1000).toISOString();
        batch.push(
          event(
            'TaskCreated',
            {
              taskId: `t-${done}`,
              activityId: 'review',
              title: `Review ${done}`,
              assignee: { user: 'alice' },
              startAt: created,
              rule: { role: REVIEWERS },
            },
            created,
          ),
        );
      }
      projector.applyBatch(batch);
    }
    db.finishBulk();
    const fillSeconds = (performance.now() - started) / 1000;
    const viewer: TaskViewer = { user: 'alice', roles: [REVIEWERS], admin: false };
    const now = new Date(Date.parse(at) + (openTasks + 1) * 1000).toISOString();
    const samples: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t = performance.now();
      const page = listTasks(db.sql, viewer, { limit: 50, offset: (i % 20) * 50 }, now);
      samples.push(performance.now() - t);
      if (page.length !== 50) throw new Error(`a page held ${page.length} tasks, not 50`);
    }
    db.close();
    return { p50ms: percentile(samples, 50), p99ms: percentile(samples, 99), fillSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rssWhileInstancesGrow(
  counts: number[],
): Promise<{ instances: number; rssMiB: number; seconds: number }[]> {
  const server = new LifelineProcess();
  const reviewer = bearer('bench-reviewer', [REVIEWERS]);
  const rows: { instances: number; rssMiB: number; seconds: number }[] = [];
  try {
    await server.start({ LIFELINE_DEMO: 'false' });
    await publishDefinition(server);
    const started = performance.now();
    let posted = 0;
    for (const count of counts) {
      await postRecords(server, 's', posted, count - posted);
      posted = count;
      for (;;) {
        const page = await server.request<{ counts: { open: number } }>('GET', '/tasks?status=open&limit=1', reviewer);
        if (page.counts.open >= count) break;
        await sleep(50);
      }
      rows.push({ instances: count, rssMiB: server.rssMiB(), seconds: (performance.now() - started) / 1000 });
      console.error(`${count} open instances: RSS ${rows[rows.length - 1]!.rssMiB} MiB`);
    }
    return rows;
  } finally {
    await server.stop();
  }
}

async function replaySpeed(
  events: number,
): Promise<{ events: number; eventsPerSecond: number; eventsPerCpuSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-scale-replay-'));
  try {
    const log = syntheticLog(events, 42);
    const cpu = process.cpuUsage();
    const result = await rebuildReadModels(log, join(dir, 'read-models.sqlite'));
    const used = process.cpuUsage(cpu);
    return {
      events: result.events,
      eventsPerSecond: result.eventsPerSecond,
      eventsPerCpuSecond: result.events / ((used.user + used.system) / 1e6),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const openTasks = Number(process.argv[2] ?? 1_000_000);
  const instances = (process.argv[3] ?? '100000,300000').split(',').map(Number);
  const replayEvents = Number(process.argv[4] ?? 200_000);
  const tasks = taskListLatency(openTasks);
  const replay = await replaySpeed(replayEvents);
  const rss = await rssWhileInstancesGrow(instances);
  console.log(
    markdownTable(
      ['Lifeline at scale', 'N', 'figure'],
      ['l', 'r', 'r'],
      [
        ['task list, one user, page of 50: p50 ms', String(openTasks), tasks.p50ms.toFixed(3)],
        ['task list, one user, page of 50: p99 ms', String(openTasks), tasks.p99ms.toFixed(3)],
        ['replay into read models: events/s', String(replay.events), replay.eventsPerSecond.toFixed(0)],
        ['replay into read models: events per CPU s', String(replay.events), replay.eventsPerCpuSecond.toFixed(0)],
        ...rss.map((r) => [
          `embedded server RSS MiB with N open instances (${r.seconds.toFixed(0)} s in)`,
          String(r.instances),
          String(r.rssMiB),
        ]),
      ],
    ),
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const at = new Date().toISOString();
  writeFileSync(
    join(ROOT, 'bench/results', `scale-${at.replace(/[:.]/g, '-')}.json`),
    JSON.stringify({ at, node: process.version, tasks, replay, rss }, null, 2),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
