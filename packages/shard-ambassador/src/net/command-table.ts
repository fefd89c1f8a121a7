/**
 * Command names looked up straight from request bytes, without making a string per request:
 * the key is the length and the first three bytes (lower-cased), and the rest of the name is
 * compared byte by byte. Names are ASCII.
 */
export class CommandTable<T> {
  private readonly byKey = new Map<number, { name: Uint8Array; value: T }[]>();

  constructor(private readonly ignoreCase: boolean) {}

  set(name: string, value: T): void {
    const bytes = Buffer.from(this.ignoreCase ? name.toLowerCase() : name, 'latin1');
    const k = this.key(bytes, 0, bytes.length);
    const list = this.byKey.get(k) ?? [];
    const i = list.findIndex((e) => Buffer.compare(e.name, bytes) === 0);
    if (i >= 0) list[i] = { name: bytes, value };
    else list.push({ name: bytes, value });
    this.byKey.set(k, list);
  }

  get(buf: Uint8Array, start: number, end: number): T | undefined {
    const list = this.byKey.get(this.key(buf, start, end));
    if (list === undefined) return undefined;
    outer: for (const e of list) {
      const n = e.name;
      for (let i = 3; i < n.length; i++) {
        const b = buf[start + i]!;
        if ((this.ignoreCase && b >= 65 && b <= 90 ? b | 0x20 : b) !== n[i]) continue outer;
      }
      return e.value;
    }
    return undefined;
  }

  private key(buf: Uint8Array, start: number, end: number): number {
    const len = end - start;
    let k = len;
    for (let i = 0; i < 3 && i < len; i++) {
      const b = buf[start + i]!;
      k = k * 256 + (this.ignoreCase && b >= 65 && b <= 90 ? b | 0x20 : b);
    }
    return k;
  }
}
