import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../common/errors.js';
import { IssuanceLog, type IssuanceRecord } from './issuance-log.js';
import type { SignedCertificate } from './signer.js';
import { signRequest } from './testing/ca-fixtures.js';

const record = (n: number): IssuanceRecord => ({
  serialHex: n.toString(16).padStart(32, '0'),
  pod: { namespace: 'default', name: `web-${n}`, uid: `uid-${n}` },
  nodeId: 'node-1',
  volumeId: `vol-${n}`,
  notBefore: new Date(0),
  notAfter: new Date(1000),
  issuedAt: new Date(n),
});

describe('IssuanceLog', () => {
  it('lists newest first and finds by serial in any case', () => {
    const log = new IssuanceLog(10);
    for (let i = 1; i <= 5; i++) log.add(record(i));
    expect(log.list().map((r) => r.volumeId)).toEqual(['vol-5', 'vol-4', 'vol-3', 'vol-2', 'vol-1']);
    expect(log.list({ limit: 2 }).map((r) => r.volumeId)).toEqual(['vol-5', 'vol-4']);
    expect(log.get(record(3).serialHex.toUpperCase())?.pod.name).toBe('web-3');
    expect(log.get('ff')).toBeUndefined();
  });

  it('drops the oldest beyond its capacity', () => {
    const log = new IssuanceLog(3);
    for (let i = 1; i <= 5; i++) log.add(record(i));
    expect(log.size).toBe(3);
    expect(log.get(record(2).serialHex)).toBeUndefined();
    expect(log.list({ limit: 100 }).map((r) => r.volumeId)).toEqual(['vol-5', 'vol-4', 'vol-3']);
  });

  it('records what signCsr returned for a request', () => {
    const log = new IssuanceLog();
    const signed: SignedCertificate = {
      certificatePem: '',
      chainPem: '',
      caBundlePem: '',
      serialHex: 'ABCDEF',
      notBefore: new Date(1),
      notAfter: new Date(2),
      notices: [],
    };
    const at = new Date(3);
    const r = log.recordIssued(signRequest('csr'), signed, at);
    expect(r).toEqual({
      serialHex: 'abcdef',
      pod: { namespace: 'default', name: 'web-0', uid: 'uid-1' },
      nodeId: 'node-1',
      volumeId: 'csi-vol-1',
      notBefore: new Date(1),
      notAfter: new Date(2),
      issuedAt: at,
    });
    expect(log.get('abcdef')?.serialHex).toBe('abcdef');
    expect(log.capacity).toBe(10_000);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects list limit %s', (limit) => {
    expect(() => new IssuanceLog().list({ limit })).toThrow(InvalidArgumentError);
  });

  it.each([0, -5, 2.5])('rejects capacity %s', (capacity) => {
    expect(() => new IssuanceLog(capacity)).toThrow(RangeError);
  });
});
