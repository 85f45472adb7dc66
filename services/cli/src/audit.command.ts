import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { currentChainHead, DerivedLogChain, hasStoredLogChain } from '@lifeline/event-store';
import {
  anchorLine,
  anchorSignatureHolds,
  appendAnchorToFile,
  AuditKeyInDataDir,
  checkAnchorsFile,
  exportHistory,
  exportLine,
  generateAuditKey,
  isInside,
  loadAuditKey,
  parseAnchors,
  parseEntityRef,
  signAnchor,
  verifyHistory,
  type AuditKey,
  type ExportSubject,
  type HistoryVerification,
  type VerifyOptions,
} from '@lifeline/audit';
import { CliUsageError, ProgressBar, type CliIo } from './io';
import { dataDirOf, openConfiguredStore, withStore } from './store';
import type { Run } from './run';

/** `lifeline audit verify | anchor | keygen | export`. */
export function registerAudit(program: Command, io: CliIo, run: Run): void {
  const audit = program.command('audit').description('Tamper evidence and full histories for auditors');

  audit
    .command('verify')
    .description(
      "Check every stream's hash chain, the global chain (deletions, gaps, recomputed hashes) and the signed anchors; name each problem by kind (exit 1 when any)",
    )
    .option('--stream <streamId>', "only this stream's own chain (e.g. instance-<id>, entity-Invoice-INV-7)")
    .option('--anchors <file>', 'signed anchors, JSON lines (default: LIFELINE_AUDIT_ANCHORS_FILE)')
    .option('--key <file>', 'the Ed25519 key, public or private, PEM (default: LIFELINE_AUDIT_KEY)')
    .option('--json', 'print the report as JSON')
    .action((options: { stream?: string; anchors?: string; key?: string; json?: boolean }, command: Command) =>
      run(async () => {
        const dataDir = dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io);
        const forbidden = protectedDirs(dataDir, io);
        const anchorsInput = options.stream === undefined ? readAnchorsInput(options, forbidden, io) : {};
        const bar = new ProgressBar(io, 'verify');
        const report = await withStore(openConfiguredStore(dataDir, io), (store) =>
          verifyHistory(store, {
            streamId: options.stream,
            ...anchorsInput,
            onProgress: (done, total) => bar.update(done, total),
          }),
        );
        bar.finish();
        io.stdout(options.json === true ? JSON.stringify(report, null, 2) + '\n' : formatVerification(report));
        return report.ok ? 0 : 1;
      }),
    );

  audit
    .command('anchor')
    .description('Sign the head of the global chain now and append the anchor to the anchors file')
    .option('--anchors <file>', 'append to this file, outside the data dir (default: LIFELINE_AUDIT_ANCHORS_FILE)')
    .option('--key <file>', 'the Ed25519 private key, PEM (default: LIFELINE_AUDIT_KEY)')
    .action((options: { anchors?: string; key?: string }, command: Command) =>
      run(async () => {
        const dataDir = dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io);
        const forbidden = protectedDirs(dataDir, io);
        const keyValue = options.key ?? io.env.LIFELINE_AUDIT_KEY;
        if (!keyValue)
          throw new CliUsageError('Give --key <file> or set LIFELINE_AUDIT_KEY (lifeline audit keygen makes one)');
        const file = anchorsFileOf(options.anchors, io);
        if (file === undefined) throw new CliUsageError('Give --anchors <file> or set LIFELINE_AUDIT_ANCHORS_FILE');
        const key = loadAuditKey(keyValue, { cwd: io.cwd, forbiddenDirs: forbidden });
        checkAnchorsFile(file, forbidden);
        const anchor = await withStore(openConfiguredStore(dataDir, io), async (store) => {
          const derived = hasStoredLogChain(store) ? undefined : derivedChainFrom(file, key);
          const head = await currentChainHead(store, undefined, derived);
          if (head.position === 0) throw new CliUsageError('The log is empty: nothing to anchor');
          return signAnchor(head, new Date().toISOString(), key);
        });
        appendAnchorToFile(file, anchor);
        io.stdout(anchorLine(anchor) + '\n');
        io.stderr(`anchored position ${anchor.position} (${anchor.eventCount} events) to ${file}\n`);
        return 0;
      }),
    );

  audit
    .command('keygen')
    .description('Make an Ed25519 key for signing anchors: the private key goes to --out, the public key to stdout')
    .requiredOption('--out <file>', 'where to write the private key (PEM, mode 0600), outside the data dir')
    .action((options: { out: string }, command: Command) =>
      run(async () => {
        const dataDir = dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io);
        const file = resolve(io.cwd, options.out);
        for (const dir of protectedDirs(dataDir, io)) if (isInside(file, dir)) throw new AuditKeyInDataDir(file, dir);
        if (existsSync(file)) throw new CliUsageError(`${file} exists: not overwriting a key`);
        const key = generateAuditKey();
        writeFileSync(file, key.privatePem, { mode: 0o600, flag: 'wx' });
        io.stdout(key.publicPem);
        io.stderr(`wrote the private key ${key.keyId} to ${file}; set LIFELINE_AUDIT_KEY=${file}\n`);
        return 0;
      }),
    );

  audit
    .command('export')
    .description(
      'Write the full history of a record (and every instance about it) or of one instance, as JSON lines in global order',
    )
    .option('--entity <Type:id>', 'a record, e.g. Invoice:INV-7')
    .option('--instance <id>', 'one process instance')
    .option('--out <file>', 'write to this file instead of stdout')
    .action((options: { entity?: string; instance?: string; out?: string }, command: Command) =>
      run(async () => {
        if ((options.entity === undefined) === (options.instance === undefined)) {
          throw new CliUsageError('Give exactly one of --entity <Type:id> or --instance <id>');
        }
        const subject: ExportSubject =
          options.entity !== undefined
            ? { kind: 'entity', entity: parseEntityRef(options.entity) }
            : { kind: 'instance', instanceId: options.instance as string };
        const dataDir = dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io);
        const events = await withStore(openConfiguredStore(dataDir, io), (store) => exportHistory(store, subject));
        const text = events.map((e) => exportLine(e) + '\n').join('');
        if (options.out !== undefined) await writeFile(resolve(io.cwd, options.out), text);
        else io.stdout(text);
        io.stderr(`exported ${events.length} event(s)${options.out !== undefined ? ` to ${options.out}` : ''}\n`);
        return events.length === 0 ? 1 : 0;
      }),
    );
}

function writeFile(file: string, text: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const out = createWriteStream(file, { encoding: 'utf8' });
    out.on('error', reject);
    out.end(text, () => resolvePromise());
  });
}

/** Where a key or anchors may not be: the data dir holding the SQLite store (EventStoreDB keeps nothing local). */
function protectedDirs(dataDir: string, io: CliIo): string[] {
  return (io.env.LIFELINE_EVENT_STORE ?? 'sqlite') === 'sqlite' ? [dataDir] : [];
}

function anchorsFileOf(option: string | undefined, io: CliIo): string | undefined {
  const value = option ?? (io.env.LIFELINE_AUDIT_ANCHORS_FILE || undefined);
  return value === undefined ? undefined : resolve(io.cwd, value);
}

/** The key and anchors verify holds the log against, or why it does not. */
function readAnchorsInput(
  options: { anchors?: string; key?: string },
  forbidden: string[],
  io: CliIo,
): Pick<VerifyOptions, 'anchors' | 'key' | 'anchorsNotChecked'> {
  const keyValue = options.key ?? (io.env.LIFELINE_AUDIT_KEY || undefined);
  const file = anchorsFileOf(options.anchors, io);
  if (keyValue === undefined) {
    return { anchorsNotChecked: 'no key: set LIFELINE_AUDIT_KEY or pass --key (the anchors were not checked)' };
  }
  const key = loadAuditKey(keyValue, { cwd: io.cwd, forbiddenDirs: forbidden });
  if (file === undefined) {
    return {
      key,
      anchorsNotChecked: 'no anchors file: set LIFELINE_AUDIT_ANCHORS_FILE or pass --anchors',
    };
  }
  checkAnchorsFile(file, forbidden);
  // A key is configured and anchors are expected: a missing file is not "nothing to check".
  if (!existsSync(file)) throw new CliUsageError(`No anchors file at ${file}`);
  return { key, anchors: parseAnchors(readFileSync(file, 'utf8')) };
}

/** For a store without a stored chain: go on from the last anchor of this key in the file, if any. */
function derivedChainFrom(file: string, key: AuditKey): DerivedLogChain {
  if (!existsSync(file)) return new DerivedLogChain();
  const mine = parseAnchors(readFileSync(file, 'utf8')).anchors.filter(({ anchor }) =>
    anchorSignatureHolds(anchor, key),
  );
  const last = mine[mine.length - 1]?.anchor;
  return new DerivedLogChain(last);
}

export function formatVerification(report: HistoryVerification): string {
  const lines: string[] = [];
  if (report.ok) {
    lines.push(`OK: ${report.streams} stream(s), ${report.events} event(s); every hash-chain link holds`);
  }
  for (const finding of report.findings) lines.push(`BROKEN [${finding.kind}]: ${finding.message}`);
  const total = Object.values(report.counts).reduce((sum, n) => sum + (n ?? 0), 0);
  if (total > report.findings.length) lines.push(`… and ${total - report.findings.length} more`);
  const chain = report.chain;
  if (chain.kind === 'stored') {
    const legacy =
      chain.legacyEvents > 0
        ? `${chain.legacyEvents} event(s) unchained before position ${chain.firstChained ?? chain.headPosition + 1} ` +
          "(written before the global chain: checked by their stream chains and the anchors' counts only); "
        : '';
    lines.push(
      chain.firstChained === undefined
        ? `global chain: ${legacy}no chained event yet`
        : `global chain: ${legacy}positions ${chain.firstChained}..${chain.headPosition} linked`,
    );
  } else if (chain.kind === 'derived') {
    lines.push(
      'global chain: not stored by this store (EventStoreDB); computed from the log and held against the anchors',
    );
  } else {
    lines.push(`global chain: not checked (${chain.reason})`);
  }
  const anchors = report.anchors;
  lines.push(
    'notChecked' in anchors
      ? `anchors: not checked (${anchors.notChecked})`
      : `anchors: ${anchors.checked} with a valid signature of key ${anchors.keyId}` +
          (anchors.lastPosition !== undefined ? `, the last at position ${anchors.lastPosition}` : ''),
  );
  if (!report.ok) {
    const byKind = Object.entries(report.counts)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ');
    lines.push(`${total} problem(s): ${byKind}`);
  }
  return lines.join('\n') + '\n';
}
