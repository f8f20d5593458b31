/** Test doubles of the issuer's Kubernetes adapters. */
import type { V1Secret } from '@kubernetes/client-node';
import { KubeHttpError, type KubeJson, type KubeMethod } from '../client/kube-json.js';

export interface FakeWatch {
  at: number;
  path: string;
  query: URLSearchParams;
  idleMs: number | undefined;
  aborted: boolean;
  emit(type: string, object: unknown): void;
  end(err: unknown): void;
}

/**
 * A fake API server for one Secret: a request answers `secret` (404 when unset) or the next queued
 * error; each watch is recorded with its query and driven by the test (`emit`, `end`).
 */
export class FakeKube implements KubeJson {
  secret: V1Secret | undefined;
  getErrors: unknown[] = [];
  gets: { at: number; method: KubeMethod; path: string }[] = [];
  watches: FakeWatch[] = [];

  request(method: KubeMethod, path: string): Promise<unknown> {
    this.gets.push({ at: Date.now(), method, path });
    const err = this.getErrors.shift();
    if (err) return Promise.reject(err);
    if (!this.secret) return Promise.reject(new KubeHttpError(404, '{"message":"not found"}', {}));
    return Promise.resolve(structuredClone(this.secret));
  }

  watch(
    path: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
    idleMs?: number,
  ): Promise<{ abort(): void }> {
    const [resource = '', query = ''] = path.split('?');
    let done = false;
    const w: FakeWatch = {
      at: Date.now(),
      path: resource,
      query: new URLSearchParams(query),
      idleMs,
      aborted: false,
      emit: (type, object) => {
        if (!done) onEvent(type, object);
      },
      end: (err) => {
        if (done) return;
        done = true;
        onDone(err);
      },
    };
    this.watches.push(w);
    return Promise.resolve({
      abort: () => {
        w.aborted = true;
        w.end(new DOMException('aborted', 'AbortError'));
      },
    });
  }

  get last(): FakeWatch {
    const w = this.watches[this.watches.length - 1];
    if (!w) throw new Error('no watch opened');
    return w;
  }
}
