/**
 * A bounded, in-memory record of the certificates this issuer process signed, for the REST API and
 * audits of the recent past (the durable audit trail is the log line written per issuance). When
 * full, the oldest record is dropped. Not shared between issuer replicas.
 */
import { InvalidArgumentError } from '../common/errors.js';
import type { SignedCertificate, SignRequest } from './signer.js';

export interface IssuanceRecord {
  serialHex: string;
  pod: { namespace: string; name: string; uid: string };
  nodeId: string;
  volumeId: string;
  notBefore: Date;
  notAfter: Date;
  issuedAt: Date;
}

export const DEFAULT_ISSUANCE_LOG_SIZE = 10_000;
const DEFAULT_LIST_LIMIT = 100;

export class IssuanceLog {
  /** Insertion-ordered: the first entry is the oldest. */
  private readonly records = new Map<string, IssuanceRecord>();

  constructor(readonly capacity = DEFAULT_ISSUANCE_LOG_SIZE) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`issuance log capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.records.size;
  }

  /** Records one issuance; a repeated serial replaces its earlier record. Drops the oldest beyond capacity. */
  add(record: IssuanceRecord): void {
    const serialHex = record.serialHex.toLowerCase();
    this.records.delete(serialHex);
    this.records.set(serialHex, { ...record, serialHex, pod: { ...record.pod } });
    while (this.records.size > this.capacity) {
      const oldest = this.records.keys().next();
      if (oldest.done === true) break;
      this.records.delete(oldest.value);
    }
  }

  /** Records what `signCsr` returned for `req`. */
  recordIssued(req: SignRequest, signed: SignedCertificate, issuedAt = new Date()): IssuanceRecord {
    const record: IssuanceRecord = {
      serialHex: signed.serialHex.toLowerCase(),
      pod: { namespace: req.pod.namespace, name: req.pod.name, uid: req.pod.uid },
      nodeId: req.nodeId,
      volumeId: req.volumeId,
      notBefore: signed.notBefore,
      notAfter: signed.notAfter,
      issuedAt,
    };
    this.add(record);
    return record;
  }

  /** The newest records first; `limit` defaults to 100. InvalidArgumentError('limit') for a non-positive or fractional limit. */
  list(opts: { limit?: number | undefined } = {}): IssuanceRecord[] {
    const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new InvalidArgumentError('limit', 'must be a positive integer');
    const all = [...this.records.values()];
    return all.slice(Math.max(0, all.length - limit)).reverse();
  }

  /** The record of a serial (lower- or upper-case hex), or undefined. */
  get(serialHex: string): IssuanceRecord | undefined {
    return this.records.get(serialHex.toLowerCase());
  }
}
