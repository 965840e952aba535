// Users by when they are next due (src/domain/appetite.ts), earliest first: an indexed binary
// min-heap, so an order moves its buyer in O(log n) and the split reads the k earliest in O(k log k)
// without disturbing the heap. Ties go to the smaller index, so the order depends only on the inputs.

export class DueQueue {
  private heap: Int32Array = new Int32Array(1024);
  private size = 0;
  /** Heap position of each index, -1 when absent. */
  private pos: Int32Array = new Int32Array(1024).fill(-1);
  private due: Float64Array = new Float64Array(1024);

  get length(): number {
    return this.size;
  }

  has(idx: number): boolean {
    return idx < this.pos.length && (this.pos[idx] as number) >= 0;
  }

  /** Adds `idx` due at `at`, or moves it there. */
  set(idx: number, at: number): void {
    this.fit(idx);
    const p = this.pos[idx] as number;
    const before = this.due[idx] as number;
    this.due[idx] = at;
    if (p < 0) {
      if (this.size === this.heap.length) this.heap = grown(this.heap, this.heap.length * 2);
      this.heap[this.size] = idx;
      this.pos[idx] = this.size++;
      this.up(this.size - 1);
    } else if (at < before) this.up(p);
    else this.down(p);
  }

  /** The k earliest, earliest first. */
  earliest(k: number): number[] {
    const out: number[] = [];
    if (this.size === 0 || k <= 0) return out;
    // a frontier of heap positions, itself a small heap by (due, idx)
    const frontier: number[] = [0];
    while (out.length < k && frontier.length > 0) {
      const top = popMin(frontier, (a, b) => this.less(this.heap[a] as number, this.heap[b] as number));
      out.push(this.heap[top] as number);
      for (const child of [2 * top + 1, 2 * top + 2])
        if (child < this.size) pushMin(frontier, child, (a, b) => this.less(this.heap[a] as number, this.heap[b] as number));
    }
    return out;
  }

  private less(a: number, b: number): boolean {
    const da = this.due[a] as number;
    const db = this.due[b] as number;
    return da < db || (da === db && a < b);
  }

  private fit(idx: number): void {
    if (idx < this.pos.length) return;
    let size = this.pos.length;
    while (size <= idx) size *= 2;
    const pos = new Int32Array(size).fill(-1);
    pos.set(this.pos);
    this.pos = pos;
    const due = new Float64Array(size);
    due.set(this.due);
    this.due = due;
  }

  private up(p: number): void {
    const idx = this.heap[p] as number;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const other = this.heap[parent] as number;
      if (!this.less(idx, other)) break;
      this.place(other, p);
      p = parent;
    }
    this.place(idx, p);
  }

  private down(p: number): void {
    const idx = this.heap[p] as number;
    for (;;) {
      let child = 2 * p + 1;
      if (child >= this.size) break;
      const right = child + 1;
      if (right < this.size && this.less(this.heap[right] as number, this.heap[child] as number)) child = right;
      const other = this.heap[child] as number;
      if (!this.less(other, idx)) break;
      this.place(other, p);
      p = child;
    }
    this.place(idx, p);
  }

  private place(idx: number, p: number): void {
    this.heap[p] = idx;
    this.pos[idx] = p;
  }
}

function grown(a: Int32Array, size: number): Int32Array {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

function pushMin(h: number[], x: number, less: (a: number, b: number) => boolean): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!less(h[i] as number, h[parent] as number)) break;
    [h[i], h[parent]] = [h[parent] as number, h[i] as number];
    i = parent;
  }
}

function popMin(h: number[], less: (a: number, b: number) => boolean): number {
  const top = h[0] as number;
  const last = h.pop() as number;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= h.length) break;
      if (c + 1 < h.length && less(h[c + 1] as number, h[c] as number)) c++;
      if (!less(h[c] as number, h[i] as number)) break;
      [h[i], h[c]] = [h[c] as number, h[i] as number];
      i = c;
    }
  }
  return top;
}
