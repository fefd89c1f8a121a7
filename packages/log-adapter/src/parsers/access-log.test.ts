import { runPipeline } from '@dds/test-support/log-adapter/pipeline';
import { describe, expect, it } from 'vitest';

const attrs = (line: string) =>
  JSON.parse(runPipeline(`${line}\n`).lines[0]!).attributes as Record<string, unknown>;

describe('access log variants', () => {
  it('ingress-nginx with several upstreams tried (comma-separated lists)', () => {
    expect(
      attrs(
        '10.0.0.1 - - [28/Nov/2026:15:49:08 +0000] "GET /x HTTP/1.1" 502 150 "-" "curl/8" 80 0.010 [ns-svc-80] [ns-canary-80] 10.244.1.2:80, 10.244.1.3:80 0, 0 0.004, 0.006 502, 502 abc123',
      ),
    ).toMatchObject({
      'http.request.size': 80,
      'nginx.request_time': 0.01,
      'nginx.upstream.name': 'ns-svc-80',
      'nginx.upstream.alternative_name': 'ns-canary-80',
      'nginx.upstream.address': '10.244.1.2:80, 10.244.1.3:80',
      'nginx.upstream.response_length': '0, 0',
      'nginx.upstream.response_time': '0.004, 0.006',
      'nginx.upstream.status': '502, 502',
      'nginx.request_id': 'abc123',
    });
  });

  it('nginx "main" format: X-Forwarded-For after the user agent', () => {
    expect(
      attrs(
        '192.0.2.1 - - [28/Nov/2026:15:49:08 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" "203.0.113.1, 10.0.0.1"',
      ),
    ).toMatchObject({ 'http.request.header.x-forwarded-for': ['203.0.113.1, 10.0.0.1'] });
  });

  it('an unknown tail is kept whole, not dropped', () => {
    expect(
      attrs('192.0.2.1 - - [28/Nov/2026:15:49:08 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" custom=1 x'),
    ).toMatchObject({
      'dds.unparsed_tail': 'custom=1 x',
    });
  });

  it('escaped multi-byte UTF-8 in the path comes back whole', () => {
    expect(
      attrs('192.0.2.1 - - [28/Nov/2026:15:49:08 +0000] "GET /caf\\xC3\\xA9 HTTP/1.1" 200 1'),
    ).toMatchObject({
      'url.path': '/café',
    });
  });
});
