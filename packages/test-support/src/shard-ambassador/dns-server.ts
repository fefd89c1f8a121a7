import { createSocket, type Socket } from 'node:dgram';

/** What the test DNS server answers: SRV records per name and A records per host. Test-only. */
export interface Zone {
  srv: Record<string, { target: string; port: number }[]>;
  a: Record<string, string>;
}

const encodeName = (name: string) =>
  Buffer.concat([
    ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);

function readName(b: Buffer, p: number): [string, number] {
  const labels: string[] = [];
  while (b[p] !== 0) {
    const n = b[p]!;
    labels.push(b.toString('latin1', p + 1, p + 1 + n));
    p += n + 1;
  }
  return [labels.join('.'), p + 1];
}

/**
 * A minimal UDP DNS server (SRV and A, class IN) on 127.0.0.1, for discovery tests. `zone` is asked
 * for every question, with its name and type (33 SRV, 1 A).
 */
export async function startDnsServer(
  zone: (name: string, type: number) => Zone,
): Promise<{ port: number; close(): void }> {
  const sock: Socket = createSocket('udp4');
  sock.on('message', (q, rinfo) => {
    const [name, end] = readName(q, 12);
    const type = q.readUInt16BE(end);
    const z = zone(name, type);
    const answers: Buffer[] = [];
    const rr = (rtype: number, rdata: Buffer) => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(0xc00c, 0);
      h.writeUInt16BE(rtype, 2);
      h.writeUInt16BE(1, 4);
      h.writeUInt32BE(1, 6);
      h.writeUInt16BE(rdata.length, 10);
      answers.push(h, rdata);
    };
    if (type === 33) {
      for (const s of z.srv[name] ?? []) {
        const d = Buffer.alloc(6);
        d.writeUInt16BE(0, 0);
        d.writeUInt16BE(10, 2);
        d.writeUInt16BE(s.port, 4);
        rr(33, Buffer.concat([d, encodeName(s.target)]));
      }
    } else if (type === 1 && z.a[name]) {
      rr(1, Buffer.from(z.a[name]!.split('.').map(Number)));
    }
    const count = type === 33 ? (z.srv[name] ?? []).length : type === 1 && z.a[name] ? 1 : 0;
    const head = Buffer.from(q.subarray(0, 12));
    head.writeUInt16BE(0x8400 | (count === 0 ? 3 : 0), 2); // response, authoritative, NXDOMAIN if empty
    head.writeUInt16BE(1, 4);
    head.writeUInt16BE(count, 6);
    head.writeUInt16BE(0, 8);
    head.writeUInt16BE(0, 10);
    sock.send(Buffer.concat([head, q.subarray(12, end + 4), ...answers]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, close: () => sock.close() };
}
