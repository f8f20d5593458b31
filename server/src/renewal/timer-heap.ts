/**
 * A min-heap of (due time, key) with lazy deletion: rescheduling or cancelling a key bumps its
 * generation, and stale entries are dropped when they reach the top. O(log n) per operation.
 */
interface Entry {
  at: number;
  key: string;
  gen: number;
}

export class TimerHeap {
  private heap: Entry[] = [];
  private gens = new Map<string, number>();
  private nextGen = 1;

  get size(): number {
    return this.gens.size;
  }

  has(key: string): boolean {
    return this.gens.has(key);
  }

  /** Sets (or moves) the due time of `key`. */
  set(key: string, at: number): void {
    const gen = this.nextGen++;
    this.gens.set(key, gen);
    this.push({ at, key, gen });
    if (this.heap.length > 64 && this.heap.length > 2 * this.gens.size) this.compact();
  }

  delete(key: string): void {
    this.gens.delete(key);
  }

  /** Due time of the earliest live entry, or undefined when empty. */
  peek(): number | undefined {
    this.dropStale();
    return this.heap[0]?.at;
  }

  /** Removes and returns every key due at or before `now`, earliest first. */
  popDue(now: number): string[] {
    const out: string[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > now) return out;
      this.pop();
      this.gens.delete(top.key);
      out.push(top.key);
    }
  }

  private dropStale(): void {
    while (this.heap.length > 0 && this.gens.get(this.heap[0]!.key) !== this.heap[0]!.gen) this.pop();
  }

  private compact(): void {
    const live = this.heap.filter((e) => this.gens.get(e.key) === e.gen);
    this.heap = [];
    for (const e of live) this.push(e);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= h[i]!.at) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.at < h[m]!.at) m = l;
      if (r < h.length && h[r]!.at < h[m]!.at) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
