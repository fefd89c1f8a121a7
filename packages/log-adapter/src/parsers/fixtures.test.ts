import { fixtureRecords } from '@dds/test-support/log-adapter/pipeline';
import { describe, expect, it } from 'vitest';

// Expected records are written by hand from the formats' documentation, not from our output.
// Each fixture is parsed with --format auto (what users run), so detection is tested too.

describe('access logs', () => {
  it('nginx combined: IPv6, user, query, \\x22 escapes, "-" request, TLS junk', () => {
    const r = fixtureRecords('nginx-combined.log');
    expect(r).toHaveLength(7);
    expect(r[1]).toEqual({
      timestamp: '2026-11-28T15:49:09Z',
      severity_text: 'INFO',
      severity_number: 9,
      body: '198.51.100.23 - alice [28/Nov/2026:15:49:09 +0000] "POST /api/v1/orders?dry_run=true HTTP/1.1" 201 87 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"',
      attributes: {
        'client.address': '198.51.100.23',
        'user.name': 'alice',
        'http.request.method': 'POST',
        'url.path': '/api/v1/orders',
        'url.query': 'dry_run=true',
        'network.protocol.version': '1.1',
        'http.response.status_code': 201,
        'http.response.body.size': 87,
        'http.request.header.referer': ['https://shop.example.com/cart'],
        'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      },
    });
    expect(r[2]!.attributes).toMatchObject({
      'client.address': '2001:db8::5',
      'network.protocol.version': '2.0',
    });
    expect(r[3]).toMatchObject({
      severity_text: 'WARN',
      severity_number: 13,
      attributes: { 'url.query': 'q=%22quoted%22&page=2', 'user_agent.original': 'bot "with quotes"/1.0' },
    });
    expect(r[4]!.attributes).toEqual({
      'client.address': '192.0.2.45',
      'http.response.status_code': 400,
      'http.response.body.size': 0,
    });
    expect(r[5]!.attributes).toEqual({
      'client.address': '192.0.2.46',
      'http.response.status_code': 400,
      'http.response.body.size': 157,
    });
    expect(r[6]).toMatchObject({ severity_text: 'ERROR', severity_number: 17 });
  });

  it('ingress-nginx: upstream fields after the user agent', () => {
    const [r] = fixtureRecords('nginx-ingress.log');
    expect(r).toEqual({
      timestamp: '2026-11-28T15:49:08Z',
      severity_text: 'INFO',
      severity_number: 9,
      body: '203.0.113.7 - - [28/Nov/2026:15:49:08 +0000] "GET /api/health HTTP/1.1" 200 15 "-" "kube-probe/1.31" 112 0.002 [default-web-8080] [] 10.244.1.17:8080 15 0.002 200 5f1c2a7e9b3d4c6a8e0f1a2b3c4d5e6f',
      attributes: {
        'client.address': '203.0.113.7',
        'http.request.method': 'GET',
        'url.path': '/api/health',
        'network.protocol.version': '1.1',
        'http.response.status_code': 200,
        'http.response.body.size': 15,
        'user_agent.original': 'kube-probe/1.31',
        'http.request.size': 112,
        'nginx.request_time': 0.002,
        'nginx.upstream.name': 'default-web-8080',
        'nginx.upstream.address': '10.244.1.17:8080',
        'nginx.upstream.response_length': '15',
        'nginx.upstream.response_time': '0.002',
        'nginx.upstream.status': '200',
        'nginx.request_id': '5f1c2a7e9b3d4c6a8e0f1a2b3c4d5e6f',
      },
    });
  });

  it('apache common and combined: +0100 offset, %b "-", \\" escapes, OPTIONS *', () => {
    const common = fixtureRecords('apache-common.log');
    expect(common).toHaveLength(5);
    expect(common[2]).toEqual({
      timestamp: '2026-11-28T14:49:10Z',
      severity_text: 'INFO',
      severity_number: 9,
      body: '192.0.2.12 - - [28/Nov/2026:15:49:10 +0100] "GET /logo.png HTTP/1.1" 304 -',
      attributes: {
        'client.address': '192.0.2.12',
        'http.request.method': 'GET',
        'url.path': '/logo.png',
        'network.protocol.version': '1.1',
        'http.response.status_code': 304,
        'http.response.body.size': 0,
      },
    });
    expect(common[3]!.attributes).toMatchObject({ 'url.path': '/a"b', 'http.response.status_code': 404 });
    expect(common[4]).toMatchObject({ timestamp: '2026-11-28T14:49:12Z', severity_number: 13 });
    const combined = fixtureRecords('apache-combined.log');
    expect(combined[2]!.attributes).toMatchObject({ 'user_agent.original': 'Mozilla/5.0 "scanner"' });
    expect(combined[3]!.attributes).toMatchObject({
      'http.request.method': 'OPTIONS',
      'url.path': '*',
      'network.protocol.version': '1.0',
      'user_agent.original': 'Apache/2.4.62 (Debian) (internal dummy connection)',
    });
  });
});

describe('server error logs', () => {
  it('nginx error log with its client/server/request context', () => {
    const r = fixtureRecords('nginx-error.log');
    expect(r).toHaveLength(4);
    expect(r[0]).toEqual({
      timestamp: '2026-11-28T15:49:11Z',
      severity_text: 'error',
      severity_number: 17,
      body: 'open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory)',
      attributes: {
        'process.pid': 29,
        'thread.id': 29,
        'nginx.connection': 12,
        'client.address': '192.0.2.44',
        'nginx.server_name': 'localhost',
        'http.request.method': 'GET',
        'url.path': '/favicon.ico',
        'network.protocol.version': '1.1',
        'http.request.header.host': ['shop.example.com'],
        'http.request.header.referer': ['https://shop.example.com/'],
      },
    });
    expect(r[1]!.attributes).toMatchObject({
      'nginx.upstream.address': 'http://127.0.0.1:8080/api/v1/orders/42',
    });
    expect(r[2]).toEqual({
      timestamp: '2026-11-28T15:50:00Z',
      severity_text: 'notice',
      severity_number: 10,
      body: 'signal 3 (SIGQUIT) received, shutting down',
      attributes: { 'process.pid': 1, 'thread.id': 1 },
    });
  });

  it('apache error log', () => {
    const r = fixtureRecords('apache-error.log');
    expect(r).toEqual([
      {
        timestamp: '2026-11-28T15:49:10.123456Z',
        severity_text: 'error',
        severity_number: 17,
        body: 'AH00126: Invalid URI in request GET /a\\"b HTTP/1.1',
        attributes: {
          'apache.module': 'core',
          'process.pid': 1234,
          'thread.id': 140123456789,
          'client.address': '192.0.2.13',
          'client.port': 51234,
        },
      },
      {
        timestamp: '2026-11-28T15:49:15.000001Z',
        severity_text: 'notice',
        severity_number: 10,
        body: 'AH00489: Apache/2.4.62 (Debian) configured -- resuming normal operations',
        attributes: { 'apache.module': 'mpm_event', 'process.pid': 1, 'thread.id': 140123456000 },
      },
    ]);
  });

  it('Redis 7: roles and level characters', () => {
    const r = fixtureRecords('redis7.log');
    expect(r).toHaveLength(27);
    expect(r[0]).toEqual({
      timestamp: '2026-11-28T15:49:08.732Z',
      severity_text: 'warning',
      severity_number: 13,
      body: 'oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo',
      attributes: { 'process.pid': 1, 'redis.role': 'child' },
    });
    expect(r[7]).toMatchObject({
      severity_text: 'notice',
      severity_number: 10,
      body: 'Ready to accept connections tcp',
    });
    expect(r[8]).toMatchObject({
      severity_text: 'verbose',
      severity_number: 6,
      body: 'Accepted 10.244.1.9:53412',
    });
    expect(r[10]).toMatchObject({ severity_text: 'debug', severity_number: 5 });
    expect(r[16]!.attributes).toEqual({ 'process.pid': 7, 'redis.role': 'replica' });
    expect(r[21]!.attributes).toEqual({ 'process.pid': 9, 'redis.role': 'sentinel' });
  });

  it('MariaDB and MySQL 8 error logs', () => {
    const r = fixtureRecords('mysql-error.log');
    expect(r).toHaveLength(7);
    expect(r[3]).toEqual({
      timestamp: '2026-11-28T15:49:30Z',
      severity_text: 'Warning',
      severity_number: 13,
      body: "Access denied for user 'app'@'10.244.1.9' (using password: YES)",
      attributes: { 'thread.id': 5 },
    });
    expect(r[4]).toMatchObject({ severity_text: 'ERROR', severity_number: 17 });
    expect(r[5]).toEqual({
      timestamp: '2026-11-28T15:49:32.123456Z',
      severity_text: 'System',
      severity_number: 9,
      body: "/usr/sbin/mysqld: ready for connections. Version: '8.0.39'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.",
      attributes: { 'thread.id': 0, 'mysql.error_code': 'MY-010931', 'mysql.subsystem': 'Server' },
    });
  });
});

describe('syslog', () => {
  it('RFC 3164 with and without PRI, padded day, tags with / and without pid', () => {
    const r = fixtureRecords('syslog-rfc3164.log', { now: Date.UTC(2026, 10, 28, 16) });
    expect(r).toHaveLength(7);
    expect(r[0]).toEqual({
      timestamp: '2026-11-28T15:49:08Z',
      severity_text: 'crit',
      severity_number: 18,
      body: "'su root' failed for alice on /dev/pts/3",
      attributes: { 'syslog.facility': 4, 'host.name': 'web-1', 'syslog.appname': 'su' },
    });
    expect(r[2]).toMatchObject({
      timestamp: '2026-11-03T07:05:01Z',
      attributes: { 'syslog.appname': 'CRON', 'process.pid': 2211 },
    });
    expect(r[4]).toMatchObject({
      severity_number: 13,
      body: expect.stringMatching(/^\[12345\.678901\] Out of memory/),
    });
    expect(r[5]!.attributes).toEqual({
      'syslog.facility': 23,
      'host.name': 'web-1',
      'syslog.appname': 'app/worker.py',
      'process.pid': 77,
    });
    expect(r[6]).toEqual({
      timestamp: '2026-11-28T15:49:13Z',
      body: 'Started nginx.service - A high performance web server and a reverse proxy server.',
      attributes: { 'host.name': 'web-1', 'syslog.appname': 'systemd', 'process.pid': 1 },
    });
  });

  it('RFC 3164 December lines read in January belong to the previous year', () => {
    const r = fixtureRecords('syslog-rfc3164.log', { now: Date.UTC(2027, 0, 2) });
    expect(r[0]!.timestamp).toBe('2026-11-28T15:49:08Z');
  });

  it('RFC 5424: offsets, NIL fields, SD escapes, brackets in MSG, BOM', () => {
    const r = fixtureRecords('syslog-rfc5424.log');
    expect(r).toHaveLength(6);
    expect(r[1]).toEqual({
      timestamp: '2026-11-28T14:49:09.123456Z',
      severity_text: 'crit',
      severity_number: 18,
      body: "'su root' failed for alice on /dev/pts/3",
      attributes: {
        'syslog.facility': 4,
        'host.name': 'web-1.example.com',
        'syslog.appname': 'su',
        'syslog.msgid': 'ID47',
      },
    });
    expect(r[2]!.body).toBe('message without structured data, contains [brackets] and "quotes"');
    expect(r[3]).toEqual({
      timestamp: '2026-11-28T15:49:11.5Z',
      severity_text: 'info',
      severity_number: 9,
      body: 'order 42 created',
      attributes: {
        'syslog.facility': 1,
        'host.name': 'web-1',
        'syslog.appname': 'myapp',
        'process.pid': 4242,
        'syslog.msgid': 'ORDER',
        'syslog.structured_data': {
          origin: { ip: '192.0.2.1', software: 'myapp', swVersion: '1.4.2' },
          meta: { sequenceId: '17', note: 'a ] b' },
        },
      },
    });
    expect(r[4]).toEqual({
      severity_text: 'debug',
      severity_number: 5,
      body: '',
      attributes: { 'syslog.facility': 1 },
    });
    expect(r[5]!.body).toBe('message after a UTF-8 BOM');
  });
});

describe('containers', () => {
  it('CRI: inner formats parsed, P chunks joined, stderr stack trace joined, empty message', () => {
    // 11 CRI lines: three P/F chunks make one record, the 3-line trace another; the stderr trace
    // is held for continuation lines and comes out after the later stdout records
    const r = fixtureRecords('cri.log');
    expect(r).toHaveLength(7);
    expect(r[0]).toEqual({
      timestamp: '2026-11-28T15:49:08.123Z',
      severity_text: 'info',
      severity_number: 9,
      body: 'server listening',
      attributes: {
        'process.pid': 1,
        'host.name': 'web-5d8f7c9b6-x2k4p',
        port: 8080,
        'log.iostream': 'stdout',
      },
    });
    expect(r[1]).toMatchObject({
      body: 'Ready to accept connections tcp',
      attributes: { 'redis.role': 'master', 'log.iostream': 'stderr' },
    });
    expect(r[2]).toEqual({
      timestamp: '2026-11-28T15:49:09.000001000Z',
      body: 'this is the first chunk of a very long line that the runtime split at 16KiB; this is the middle chunk; and this is the final chunk.',
      attributes: { 'dds.parse_error': 'no known format', 'log.iostream': 'stdout' },
    });
    expect(r[3]).toMatchObject({
      timestamp: '2026-11-28T15:49:09Z',
      attributes: { 'http.response.status_code': 200 },
    });
    expect(r[4]).toMatchObject({ timestamp: '2026-11-28T15:49:10.000000000Z', body: '' });
    expect(r[5]).toMatchObject({ timestamp: '2026-11-28T15:49:10.500000000Z' });
    expect(r[6]).toEqual({
      timestamp: '2026-11-28T15:49:09.345000000Z',
      body: 'java.lang.IllegalStateException: order 42 is locked',
      attributes: {
        'log.iostream': 'stderr',
        'exception.type': 'java.lang.IllegalStateException',
        'exception.message': 'order 42 is locked',
        'exception.stacktrace':
          'java.lang.IllegalStateException: order 42 is locked\n\tat com.example.shop.orders.OrderService.cancel(OrderService.java:88)\n\tat com.example.shop.orders.OrderController.delete(OrderController.java:41)',
      },
    });
  });

  it('Docker json-file: split line joined, escapes decoded', () => {
    const r = fixtureRecords('docker-json-file.log');
    expect(r).toHaveLength(4);
    expect(r[0]).toEqual({
      timestamp: '2026-11-28T15:49:08.123456789Z',
      body: 'server listening on :8080',
      attributes: { 'dds.parse_error': 'no known format', 'log.iostream': 'stdout' },
    });
    expect(r[1]!.body).toBe(
      'first 16KiB chunk of a long line without trailing newline; final chunk ends with newline',
    );
    expect(r[1]!.timestamp).toBe('2026-11-28T15:49:09.000001000Z');
    expect(r[2]!.body).toBe('unicode éè and escaped "quotes" and \\backslash');
    expect(r[3]!.attributes).toMatchObject({
      'exception.type': 'java.lang.IllegalStateException',
      'exception.stacktrace':
        'java.lang.IllegalStateException: order 42 is locked\n\tat com.example.shop.orders.OrderService.cancel(OrderService.java:88)',
    });
  });
});

describe('application logs', () => {
  it('JSON lines of pino, bunyan, winston, ECS, GCP, zap, slog, logrus', () => {
    const r = fixtureRecords('json-app.log');
    expect(r).toHaveLength(11);
    expect(r[0]).toEqual({
      timestamp: '2026-11-28T15:49:08.123Z',
      severity_text: 'info',
      severity_number: 9,
      body: 'request completed',
      attributes: {
        'process.pid': 1,
        'host.name': 'web-1',
        'http.request.method': 'GET',
        'url.path': '/',
        'http.response.status_code': 200,
        responseTime: 3.2,
      },
    });
    expect(r[1]).toEqual({
      timestamp: '2026-11-28T15:49:09.345Z',
      severity_text: 'error',
      severity_number: 17,
      body: 'boom',
      attributes: {
        'process.pid': 1,
        'host.name': 'web-1',
        'exception.type': 'Error',
        'exception.message': 'boom',
        'exception.stacktrace':
          'Error: boom\n    at handler (/app/src/h.js:10:11)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      },
    });
    expect(r[2]).toEqual({
      timestamp: '2026-11-28T15:49:10.000Z',
      severity_text: 'warn',
      severity_number: 13,
      body: 'slow query',
      attributes: { name: 'legacy-svc', 'host.name': 'web-2', 'process.pid': 7 },
    });
    expect(r[3]).toMatchObject({
      timestamp: '2026-11-28T15:49:11.000Z',
      severity_number: 9,
      attributes: { userId: 'u-123' },
    });
    expect(r[4]).toEqual({
      timestamp: '2026-11-28T15:49:12.000Z',
      severity_text: 'warn',
      severity_number: 13,
      body: 'cache miss ratio high',
      attributes: { 'ecs.version': '1.6.0', 'service.name': 'catalog' },
    });
    expect(r[5]).toEqual({
      timestamp: '2026-11-28T15:49:13.000000Z',
      severity_text: 'ERROR',
      severity_number: 17,
      body: 'payment declined',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      attributes: {},
    });
    expect(r[6]).toEqual({
      timestamp: '2026-11-28T15:49:14.123456Z',
      severity_text: 'info',
      severity_number: 9,
      body: 'started',
      attributes: { 'code.file.path': 'server/main.go', 'code.line.number': 42, version: '1.2.3' },
    });
    expect(r[7]).toMatchObject({
      timestamp: '2026-11-28T14:49:15.000000001Z',
      severity_text: 'DEBUG',
      severity_number: 5,
    });
    expect(r[8]).toMatchObject({ severity_text: 'warning', severity_number: 13 });
    expect(r[9]).toMatchObject({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' });
    expect(r[10]).toEqual({
      body: 'this line is not JSON and must be passed through as body',
      attributes: { 'dds.parse_error': 'no known format' },
    });
  });

  it('Java stack trace (Spring Boot) joined into the error record', () => {
    const r = fixtureRecords('java-stacktrace.log');
    expect(r).toHaveLength(3);
    expect(r[0]).toEqual({
      timestamp: '2026-11-28T15:49:08.120Z',
      severity_text: 'INFO',
      severity_number: 9,
      body: 'Started ShopApplication in 4.211 seconds (process running for 4.9)',
      attributes: {
        'process.pid': 1,
        'thread.name': 'main',
        'code.namespace': 'com.example.shop.ShopApplication',
      },
    });
    const stack = r[1]!.attributes as Record<string, string>;
    expect(r[1]).toMatchObject({
      severity_text: 'ERROR',
      severity_number: 17,
      timestamp: '2026-11-28T15:49:09.345Z',
    });
    expect(stack['exception.type']).toBe('java.lang.IllegalStateException');
    expect(stack['exception.message']).toBe('order 42 is locked');
    expect(stack['exception.stacktrace']!.split('\n')).toHaveLength(13); // fixture lines 3-15
    expect(stack['exception.stacktrace']).toMatch(
      /^java\.lang\.IllegalStateException: order 42 is locked\n\tat /,
    );
    expect(stack['exception.stacktrace']).toMatch(
      /Caused by: java\.net\.ConnectException: Connection refused\n.*\n\t\.\.\. 3 more$/,
    );
    expect(r[2]).toMatchObject({ body: 'retrying order 42', severity_text: 'WARN' });
  });

  it('Python traceback joined; the exception comes from its last line', () => {
    const r = fixtureRecords('python-traceback.log');
    expect(r).toEqual([
      {
        timestamp: '2026-11-28T15:49:09.345Z',
        severity_text: 'ERROR',
        severity_number: 17,
        body: '[worker] task failed',
        attributes: {
          'exception.type': 'ZeroDivisionError',
          'exception.message': 'division by zero',
          'exception.stacktrace':
            'Traceback (most recent call last):\n  File "/app/worker.py", line 42, in run\n    result = handler(payload)\n  File "/app/handlers.py", line 17, in handler\n    return payload["order_id"] / payload["qty"]\nZeroDivisionError: division by zero',
        },
      },
      {
        timestamp: '2026-11-28T15:49:10.001Z',
        severity_text: 'INFO',
        severity_number: 9,
        body: '[worker] next task',
        attributes: {},
      },
    ]);
  });
});
