/** One `servers:` entry of a nutcracker pool, parsed the way twemproxy parses it. */
export interface ServerSpec {
  /** the entry without its name, e.g. `127.0.0.1:6379:1` (twemproxy's pname) */
  pname: string;
  /** host, or a unix socket path */
  host: string;
  /** 0 for unix sockets */
  port: number;
  weight: number;
  /** the string hashed onto the ketama ring: the given name, else `host:port` (`host` for 11211) */
  name: string;
  /** true when the name was given explicitly */
  named: boolean;
}

/**
 * Parses `host:port:weight [name]` or `/path/sock:weight [name]` from the end, like
 * twemproxy's conf_add_server (the name is whatever follows the last space). Returns an
 * error message instead of throwing so validation can name the entry.
 */
export function parseServer(entry: string): ServerSpec | string {
  const s = entry.trim();
  const space = s.lastIndexOf(' ');
  const name = space >= 0 ? s.slice(space + 1) : '';
  const pname = space >= 0 ? s.slice(0, space).trim() : s;
  const unix = pname.startsWith('/');
  const parts = pname.split(':');
  const want = unix ? 2 : 3;
  if (parts.length < want || (unix && parts.length !== 2)) {
    return unix
      ? `expected "/path/unix_socket:weight [name]", got "${entry}"`
      : `expected "host:port:weight [name]", got "${entry}"`;
  }
  const weightText = parts.pop()!;
  const portText = unix ? '0' : parts.pop()!;
  const host = parts.join(':').replace(/^\[(.*)\]$/, '$1');
  if (!/^\d+$/.test(weightText)) return `invalid weight "${weightText}" in "${entry}"`;
  const weight = Number(weightText);
  if (weight === 0) return `weight must be at least 1 in "${entry}"`;
  if (!unix && (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)) {
    return `invalid port "${portText}" in "${entry}"`;
  }
  if (host === '') return `missing host in "${entry}"`;
  const port = Number(portText);
  // libmemcached compatibility: port 11211 is left out of the hashed name
  const implicit = unix || port === 11211 ? host : `${host}:${port}`;
  return { pname, host, port, weight, name: name || implicit, named: name !== '' };
}
