import { generateKeyPairSync } from 'node:crypto';
import {
  anchorSignatureHolds,
  generateAuditKey,
  parseAnchors,
  parseAuditKey,
  signAnchor,
  type Anchor,
} from './anchors';

describe('signed anchors', () => {
  const pair = generateAuditKey();
  const key = parseAuditKey(pair.privatePem);
  const head = { position: 42, globalHash: 'ab'.repeat(32), eventCount: 40 };

  it('signs {v, position, globalHash, eventCount, at, keyId} with Ed25519; the public key alone verifies', () => {
    const anchor = signAnchor(head, '2026-11-21T10:00:00.000Z', key);
    expect(anchor).toMatchObject({ v: 1, ...head, at: '2026-11-21T10:00:00.000Z', keyId: pair.keyId });
    expect(anchor.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(anchor.signature, 'base64')).toHaveLength(64);
    const publicOnly = parseAuditKey(pair.publicPem);
    expect(publicOnly).toMatchObject({ keyId: pair.keyId, privateKey: undefined });
    expect(anchorSignatureHolds(anchor, publicOnly)).toBe(true);
    expect(() => signAnchor(head, '2026-11-21T10:00:00.000Z', publicOnly)).toThrow(
      expect.objectContaining({ code: 'AUDIT.KEY_INVALID' }),
    );
  });

  it('a signature no longer holds once any field is changed, or for another key', () => {
    const anchor = signAnchor(head, '2026-11-21T10:00:00.000Z', key);
    const changes: Partial<Anchor>[] = [
      { position: 41 },
      { globalHash: 'cd'.repeat(32) },
      { eventCount: 41 },
      { at: '2026-11-21T10:00:01.000Z' },
      { signature: Buffer.alloc(64).toString('base64') },
      { signature: 'not base64 at all' },
    ];
    for (const change of changes) expect(anchorSignatureHolds({ ...anchor, ...change }, key)).toBe(false);
    const other = parseAuditKey(generateAuditKey().privatePem);
    expect(anchorSignatureHolds(anchor, other)).toBe(false);
    expect(anchorSignatureHolds({ ...anchor, keyId: other.keyId }, other)).toBe(false);
  });

  it('refuses a key that is not an Ed25519 PEM key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => parseAuditKey(ec as string)).toThrow('The audit key must be Ed25519, not ec');
    expect(() => parseAuditKey('-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----')).toThrow(
      expect.objectContaining({ code: 'AUDIT.KEY_INVALID' }),
    );
  });

  it('reads anchors as JSON lines and names each line that is not one', () => {
    const anchor = signAnchor(head, '2026-11-21T10:00:00.000Z', key);
    const text = [JSON.stringify(anchor), '', '{"v":1,"position":"7"}', 'garbage', JSON.stringify(anchor)].join('\n');
    const parsed = parseAnchors(text);
    expect(parsed.anchors.map((a) => a.line)).toEqual([1, 5]);
    expect(parsed.anchors[0]!.anchor).toEqual(anchor);
    expect(parsed.unreadable).toEqual([
      { line: 3, reason: 'not an anchor (v, position, globalHash, eventCount, at, keyId, signature)' },
      { line: 4, reason: 'not JSON' },
    ]);
  });
});
