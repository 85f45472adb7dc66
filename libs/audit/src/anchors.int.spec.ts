import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendAnchorToFile,
  checkAnchorsFile,
  generateAuditKey,
  loadAuditKey,
  parseAnchors,
  signAnchor,
} from './anchors';

describe('audit key and anchors file on disk', () => {
  let root: string;
  let dataDir: string;
  let vault: string;
  const pair = generateAuditKey();
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lifeline-anchors-'));
    dataDir = join(root, 'data');
    vault = join(root, 'vault');
    mkdirSync(dataDir);
    mkdirSync(vault);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('loads LIFELINE_AUDIT_KEY as a path or as the PEM itself', () => {
    writeFileSync(join(vault, 'key.pem'), pair.privatePem);
    expect(loadAuditKey(join(vault, 'key.pem'), { forbiddenDirs: [dataDir] }).keyId).toBe(pair.keyId);
    expect(loadAuditKey('key.pem', { cwd: vault }).keyId).toBe(pair.keyId);
    expect(loadAuditKey(pair.privatePem, { forbiddenDirs: [dataDir] }).keyId).toBe(pair.keyId);
    expect(() => loadAuditKey(join(vault, 'missing.pem'))).toThrow(
      expect.objectContaining({ code: 'AUDIT.KEY_INVALID' }),
    );
  });

  it('refuses a key file inside the data dir, also reached through a symbolic link', () => {
    writeFileSync(join(dataDir, 'key.pem'), pair.privatePem);
    symlinkSync(dataDir, join(vault, 'looks-outside'));
    for (const path of [join(dataDir, 'key.pem'), join(vault, 'looks-outside', 'key.pem')]) {
      expect(() => loadAuditKey(path, { forbiddenDirs: [dataDir] })).toThrow(
        expect.objectContaining({ code: 'AUDIT.KEY_IN_DATA_DIR' }),
      );
    }
  });

  it('refuses an anchors file inside the data dir, even one not written yet; appends one line per anchor', () => {
    expect(() => checkAnchorsFile(join(dataDir, 'sub', 'anchors.jsonl'), [dataDir])).toThrow(
      expect.objectContaining({ code: 'AUDIT.ANCHORS_IN_DATA_DIR' }),
    );
    const file = checkAnchorsFile(join(vault, 'anchors.jsonl'), [dataDir]);
    const key = loadAuditKey(pair.privatePem);
    const first = signAnchor(
      { position: 3, globalHash: 'a'.repeat(64), eventCount: 3 },
      '2026-11-21T10:00:00.000Z',
      key,
    );
    const second = signAnchor(
      { position: 9, globalHash: 'b'.repeat(64), eventCount: 9 },
      '2026-11-21T10:05:00.000Z',
      key,
    );
    appendAnchorToFile(file, first);
    appendAnchorToFile(file, second);
    expect(parseAnchors(readFileSync(file, 'utf8')).anchors.map((a) => a.anchor)).toEqual([first, second]);
  });
});
