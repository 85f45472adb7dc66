import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { FakeClock } from '@lifeline/engine';
import { cli, invoice, record } from './fixtures';

const HOUR = 60 * 60 * 1000;

/** The new version under study: small invoices skip the review; large ones get a second look first. */
const NEW_VERSION = `
key: invoice-approval
name: Invoice approval
relatedEntity: Invoice
executionOrder: 10
triggers:
  - on: created
    when: entity.amount > 100
start: size
activities:
  size:
    type: decision
    branches:
      - { when: entity.amount > 10000, next: secondLook }
    otherwise: review
  secondLook:
    type: human
    title: Second look
    assignee: { role: accounting }
    next: review
  review:
    type: human
    title: Review the invoice
    assignee: { role: accounting }
    results: [Approve, Reject]
    next: done
  done: { type: end }
`;

/** A version that forks: every invoice is reviewed, and large ones get a legal check at the same time. */
const FORKING_VERSION = `
key: invoice-approval
name: Invoice approval
relatedEntity: Invoice
executionOrder: 10
triggers:
  - on: created
    when: entity.amount > 100
start: checks
activities:
  checks:
    type: inclusive
    branches:
      - { when: entity.amount > 10000, next: legal }
      - { when: entity.amount > 100, next: review }
    otherwise: review
  legal:
    type: human
    title: Legal check
    assignee: { role: legal }
    next: reviewed
  review:
    type: human
    title: Review the invoice
    assignee: { role: accounting }
    results: [Approve, Reject]
    next: reviewed
  reviewed: { type: join, next: done }
  done: { type: end }
`;

describe('lifeline what-if: a new definition against the recorded entity events of a window', () => {
  let lifeline: RunningLifeline;
  let clock: FakeClock;
  let dataDir: string;
  let definitionFile: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-what-if-'));
    clock = new FakeClock('2026-11-21T10:00:00.000Z');
    lifeline = await startLifeline({ dataDir, clock });
    definitionFile = join(dataDir, 'new.yaml');
    writeFileSync(definitionFile, NEW_VERSION);
  });
  afterEach(async () => {
    await lifeline.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports starts, branches and tasks, and the differences from what the active version did; nothing is appended', async () => {
    await record(lifeline, invoice('INV-0', 'evt-0', 'created', { amount: 5000 })); // before the window
    clock.advance(HOUR);
    const from = lifeline.clock.nowIso();
    await record(lifeline, invoice('INV-1', 'evt-1', 'created', { amount: 50 }));
    await record(lifeline, invoice('INV-2', 'evt-2', 'created', { amount: 5000 }));
    await record(lifeline, invoice('INV-3', 'evt-3', 'created', { amount: 20000 }));
    await record(lifeline, invoice('INV-4', 'evt-4', 'created', { amount: 0 }));
    await record(lifeline, invoice('INV-2', 'evt-5', 'updated', { amount: 5000, status: 'Disputed' }, ['status']));
    const to = lifeline.clock.nowIso();
    clock.advance(HOUR);
    await record(lifeline, invoice('INV-5', 'evt-6', 'created', { amount: 7000 })); // after the window
    const head = await lifeline.engine.store.headPosition();

    const json = await cli([
      'what-if',
      '--definition',
      definitionFile,
      '--from',
      from,
      '--to',
      to,
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.entityEvents).toBe(5);
    // The active version (amount > 0) started INV-1, INV-2, INV-3, each at "Review the invoice".
    expect(report.actual).toMatchObject({
      started: 3,
      versions: [1],
      tasks: { 'review: Review the invoice': 3 },
      branches: {},
    });
    // The new one (amount > 100) starts INV-2 and INV-3; INV-3 goes to a second look.
    expect(report.whatIf).toMatchObject({
      started: 2,
      branches: { 'size -> review': 1, 'size -> secondLook': 1 },
      tasks: { 'review: Review the invoice': 1, 'secondLook: Second look': 1 },
    });
    expect(report.differences).toEqual(
      expect.arrayContaining([
        { what: 'instances started', whatIf: 2, actual: 3 },
        { what: 'branch size -> secondLook', whatIf: 1, actual: 0 },
        { what: 'task review: Review the invoice', whatIf: 1, actual: 3 },
        { what: 'task secondLook: Second look', whatIf: 1, actual: 0 },
      ]),
    );
    expect(await lifeline.engine.store.headPosition()).toBe(head);

    const table = await cli([
      'what-if',
      '--definition',
      definitionFile,
      '--from',
      from,
      '--to',
      to,
      '--data-dir',
      dataDir,
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/instances started\s+2\s+3/);
    expect(table.stdout).toMatch(/task secondLook: Second look\s+1\s+0/);
    expect(table.stdout).toContain('difference(s)');
  });

  it('counts the branches a fork takes and the tasks of every branch', async () => {
    writeFileSync(definitionFile, FORKING_VERSION);
    const from = lifeline.clock.nowIso();
    await record(lifeline, invoice('INV-2', 'evt-2', 'created', { amount: 5000 }));
    await record(lifeline, invoice('INV-3', 'evt-3', 'created', { amount: 20000 }));
    const to = lifeline.clock.nowIso();

    const json = await cli([
      'what-if',
      '--definition',
      definitionFile,
      '--from',
      from,
      '--to',
      to,
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.refused).toEqual({});
    // INV-2 takes the review only; INV-3 the legal check and the review at once.
    expect(report.whatIf).toMatchObject({
      started: 2,
      branches: { 'checks -> review': 2, 'checks -> legal': 1 },
      tasks: { 'review: Review the invoice': 2, 'legal: Legal check': 1 },
      incidents: 0,
    });
    expect(report.differences).toEqual(
      expect.arrayContaining([
        { what: 'branch checks -> legal', whatIf: 1, actual: 0 },
        { what: 'task legal: Legal check', whatIf: 1, actual: 0 },
      ]),
    );
  });

  it('refuses an invalid definition with every issue by path, and a window that ends before it starts', async () => {
    writeFileSync(definitionFile, NEW_VERSION.replace('next: secondLook', 'next: nowhere'));
    const invalid = await cli([
      'what-if',
      '--definition',
      definitionFile,
      '--from',
      '2026-11-21T00:00:00Z',
      '--to',
      '2026-11-22T00:00:00Z',
      '--data-dir',
      dataDir,
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('DEFINITION.INVALID');
    expect(invalid.stderr).toContain('nowhere');
    const backwards = await cli([
      'what-if',
      '--definition',
      definitionFile,
      '--from',
      '2026-11-22T00:00:00Z',
      '--to',
      '2026-11-21T00:00:00Z',
      '--data-dir',
      dataDir,
    ]);
    expect(backwards.code).toBe(2);
  });

  it.each(['2026-02-31T00:00:00Z', '2026-11-21T24:00:00Z'])(
    'refuses --from %s: not a real instant (Date.parse would roll it over), AUDIT.INVALID_AS_OF',
    async (from) => {
      const refused = await cli([
        'what-if',
        '--definition',
        definitionFile,
        '--from',
        from,
        '--to',
        '2026-12-01T00:00:00Z',
        '--data-dir',
        dataDir,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('AUDIT.INVALID_AS_OF');
      expect(refused.stdout).toBe('');
    },
  );
});
