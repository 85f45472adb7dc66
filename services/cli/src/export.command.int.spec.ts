import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModdle, exportBpmn } from '@lifeline/bpmn';
import { SqliteEventStore } from '@lifeline/event-store';
import { parseDefinition } from '@lifeline/process-domain';
import { runCli } from './cli';
import type { CliIo } from './io';

const YAML = 'key: tiny\nname: Tiny\nrelatedEntity: Case\nstart: done\nactivities:\n  done: { type: end }\n';
const DRAWN = '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions id="as-drawn"/>\n';

async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: {},
    cwd: process.cwd(),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

describe('lifeline export (from the data dir)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-cli-export-'));
    const store = SqliteEventStore.open(join(dataDir, 'events.db'));
    const definition = parseDefinition(YAML);
    const published = (version: number, source: string) => ({
      id: `00000000-0000-4000-8000-00000000000${version}`,
      type: 'DefinitionPublished',
      data: { key: 'tiny', version, definition: { ...definition, name: `Tiny v${version}` }, source },
      metadata: { correlationId: 'c', causationId: 'c', actor: 'root', at: '2026-11-30T10:00:00.000Z' },
    });
    await store.append({ streamId: 'definition-tiny', events: [published(1, YAML)], expectedRevision: 'no-stream' });
    await store.append({ streamId: 'definition-tiny', events: [published(2, DRAWN)], expectedRevision: 0 });
    await store.close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints a version published as YAML as an export that parses back, and one published as BPMN as it was drawn', async () => {
    const first = await cli(['--data-dir', dataDir, 'export', 'tiny', '--version', '1']);
    expect([first.code, first.stderr]).toEqual([0, '']);
    expect(first.stdout).toBe(await exportBpmn({ ...parseDefinition(YAML), name: 'Tiny v1' }));
    expect((await createModdle().fromXML(first.stdout)).warnings).toEqual([]);
    const latest = await cli(['--data-dir', dataDir, 'export', 'tiny']);
    expect([latest.code, latest.stdout]).toEqual([0, DRAWN]);
  });

  it('refuses an unknown definition or version and a bad version, exit code 2', async () => {
    expect(await cli(['--data-dir', dataDir, 'export', 'nothing'])).toEqual({
      code: 2,
      stdout: '',
      stderr: `lifeline: No definition nothing in ${dataDir}\n`,
    });
    expect(await cli(['--data-dir', dataDir, 'export', 'tiny', '--version', '3'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'lifeline: No version 3 of definition tiny (it has 1 to 2)\n',
    });
    expect((await cli(['--data-dir', dataDir, 'export', 'tiny', '--version', 'x'])).code).toBe(2);
  });
});
