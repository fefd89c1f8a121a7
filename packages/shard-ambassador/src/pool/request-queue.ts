import type { Request } from './request.js';

/**
 * Requests in order, on a ring that grows by doubling: pushing and taking never reallocate
 * or shift an array in the steady state (a JS array's `length = 0` or splice is a slow path).
 */
export class RequestQueue {
  private items: (Request | undefined)[] = new Array(16);
  private mask = 15;
  private first = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(r: Request): void {
    if (this.size > this.mask) this.grow();
    this.items[(this.first + this.size) & this.mask] = r;
    this.size++;
  }

  /** The oldest request, or undefined. */
  peek(): Request | undefined {
    return this.size === 0 ? undefined : this.items[this.first];
  }

  /** The i-th request from the oldest (0 <= i < length). */
  at(i: number): Request {
    return this.items[(this.first + i) & this.mask]!;
  }

  /** Removes and returns the oldest request, or undefined. */
  shift(): Request | undefined {
    if (this.size === 0) return undefined;
    const r = this.items[this.first];
    this.items[this.first] = undefined;
    this.first = (this.first + 1) & this.mask;
    this.size--;
    return r;
  }

  /** Removes every request; returns them oldest first. */
  drain(): Request[] {
    const out: Request[] = [];
    for (let r = this.shift(); r !== undefined; r = this.shift()) out.push(r);
    return out;
  }

  private grow(): void {
    const next: (Request | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.first + i) & this.mask];
    this.items = next;
    this.mask = next.length - 1;
    this.first = 0;
  }
}
