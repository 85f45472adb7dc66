import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { canonicalJson, type ChainHead } from '@lifeline/event-store';
import { DomainError } from '@lifeline/process-domain';

/**
 * Signed checkpoints of the global chain's head (docs/decisions/0005-tamper-evidence.md). An anchor
 * kept away from the data dir lets `lifeline audit verify` see what the chain alone cannot: a cut
 * head of the log, and a history whose hashes were all recomputed.
 */
export interface Anchor {
  v: 1;
  position: number;
  globalHash: string;
  eventCount: number;
  /** When it was signed (ISO-8601). */
  at: string;
  keyId: string;
  /** Ed25519 over canonicalJson of every other field, base64. */
  signature: string;
}

/** An Ed25519 key: the private half signs (the engine), the public half is enough to verify. */
export interface AuditKey {
  keyId: string;
  publicKey: KeyObject;
  privateKey?: KeyObject;
}

export class AuditKeyInvalid extends DomainError {
  readonly code = 'AUDIT.KEY_INVALID';
  readonly family = 'validation' as const;
}

/** A key in the data dir would be copied, backed up and altered with the data it is meant to vouch for. */
export class AuditKeyInDataDir extends DomainError {
  readonly code = 'AUDIT.KEY_IN_DATA_DIR';
  readonly family = 'validation' as const;
  constructor(
    readonly file: string,
    readonly dir: string,
  ) {
    super(`The audit key ${file} is inside ${dir}: keep it outside the data dir (LIFELINE_AUDIT_KEY)`);
  }
}

/** Anchors kept with the data would be cut or rewritten together with it. */
export class AnchorsFileInDataDir extends DomainError {
  readonly code = 'AUDIT.ANCHORS_IN_DATA_DIR';
  readonly family = 'validation' as const;
  constructor(
    readonly file: string,
    readonly dir: string,
  ) {
    super(`The anchors file ${file} is inside ${dir}: keep it outside the data dir (LIFELINE_AUDIT_ANCHORS_FILE)`);
  }
}

/**
 * LIFELINE_AUDIT_KEY: a PEM text itself, or the path of a PEM file, holding an Ed25519 private key
 * (to sign and verify) or public key (to verify only). A file inside one of `forbiddenDirs` is refused.
 */
export function loadAuditKey(value: string, options: { cwd?: string; forbiddenDirs?: string[] } = {}): AuditKey {
  const text = value.trim();
  if (text.startsWith('-----BEGIN')) return parseAuditKey(text);
  const file = resolve(options.cwd ?? process.cwd(), text);
  for (const dir of options.forbiddenDirs ?? []) {
    if (isInside(file, dir)) throw new AuditKeyInDataDir(file, dir);
  }
  if (!existsSync(file)) throw new AuditKeyInvalid(`No audit key file at ${file}`);
  return parseAuditKey(readFileSync(file, 'utf8'));
}

export function parseAuditKey(pem: string): AuditKey {
  let privateKey: KeyObject | undefined;
  let publicKey: KeyObject;
  try {
    if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
      privateKey = createPrivateKey(pem);
      publicKey = createPublicKey(privateKey);
    } else {
      publicKey = createPublicKey(pem);
    }
  } catch (error) {
    throw new AuditKeyInvalid(`The audit key is not a PEM key: ${error instanceof Error ? error.message : ''}`);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new AuditKeyInvalid(`The audit key must be Ed25519, not ${publicKey.asymmetricKeyType ?? 'unknown'}`);
  }
  return { keyId: keyIdOf(publicKey), publicKey, privateKey };
}

/** First 16 hex digits of the sha256 of the public key (SPKI DER): names the key in each anchor. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** A new key pair as PEM (`lifeline audit keygen`). */
export function generateAuditKey(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    keyId: keyIdOf(publicKey),
  };
}

const signedText = (anchor: Omit<Anchor, 'signature'>): string =>
  canonicalJson({
    v: anchor.v,
    position: anchor.position,
    globalHash: anchor.globalHash,
    eventCount: anchor.eventCount,
    at: anchor.at,
    keyId: anchor.keyId,
  });

export function signAnchor(head: ChainHead, at: string, key: AuditKey): Anchor {
  if (key.privateKey === undefined) throw new AuditKeyInvalid('A public key cannot sign anchors: give the private key');
  const unsigned = { v: 1 as const, ...head, at, keyId: key.keyId };
  return { ...unsigned, signature: sign(null, Buffer.from(signedText(unsigned)), key.privateKey).toString('base64') };
}

/** Whether the anchor was signed by this key and not changed since. */
export function anchorSignatureHolds(anchor: Anchor, key: AuditKey): boolean {
  if (anchor.keyId !== key.keyId) return false;
  try {
    return verify(null, Buffer.from(signedText(anchor)), key.publicKey, Buffer.from(anchor.signature, 'base64'));
  } catch {
    return false;
  }
}

/** The JSON line of an anchor, as the file and the Kafka topic carry it. */
export const anchorLine = (anchor: Anchor): string => JSON.stringify(anchor);

export interface ParsedAnchors {
  anchors: { line: number; anchor: Anchor }[];
  /** Lines that are not anchors at all (1-based). */
  unreadable: { line: number; reason: string }[];
}

export function parseAnchors(text: string): ParsedAnchors {
  const out: ParsedAnchors = { anchors: [], unreadable: [] };
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      out.unreadable.push({ line: index + 1, reason: 'not JSON' });
      return;
    }
    const a = value as Partial<Anchor> | null;
    if (
      a === null ||
      typeof a !== 'object' ||
      a.v !== 1 ||
      !Number.isSafeInteger(a.position) ||
      typeof a.globalHash !== 'string' ||
      !Number.isSafeInteger(a.eventCount) ||
      typeof a.at !== 'string' ||
      typeof a.keyId !== 'string' ||
      typeof a.signature !== 'string'
    ) {
      out.unreadable.push({
        line: index + 1,
        reason: 'not an anchor (v, position, globalHash, eventCount, at, keyId, signature)',
      });
      return;
    }
    out.anchors.push({ line: index + 1, anchor: a as Anchor });
  });
  return out;
}

/** Appends one anchor line and syncs it to disk before returning. */
export function appendAnchorToFile(file: string, anchor: Anchor): void {
  const fd = openSync(file, 'a', 0o644);
  try {
    writeSync(fd, anchorLine(anchor) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Refuses an anchors file inside one of `dirs` (the data dir, the event store's directory). */
export function checkAnchorsFile(file: string, dirs: string[]): string {
  const absolute = resolve(file);
  for (const dir of dirs) if (isInside(absolute, dir)) throw new AnchorsFileInDataDir(absolute, dir);
  return absolute;
}

/** Whether `file` is `dir` or below it, after resolving symbolic links of what exists of both. */
export function isInside(file: string, dir: string): boolean {
  const rel = relative(realish(dir), realish(file));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The real path of the longest existing prefix of `path`, with the rest appended. */
function realish(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : join(realish(parent), basename(absolute));
}
