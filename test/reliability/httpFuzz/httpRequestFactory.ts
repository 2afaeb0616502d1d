/** The two HTTP servers of the driver; a header may be hostile to one and harmless to the other. */
export type HttpServerKind = 'health' | 'fault';

/** One generated request: its bytes, which servers must refuse it with a 4xx, and how it was built. */
export interface FuzzRequest {
  bytes: Buffer;
  /** Must be answered with a 4xx by this server. */
  badFor: Set<HttpServerKind>;
  describe: string;
}

interface Piece {
  text: string;
  bad: HttpServerKind[];
}

const both: HttpServerKind[] = ['health', 'fault'];
const ok = (text: string): Piece => ({ text, bad: [] });
const bad = (text: string, on: HttpServerKind[] = both): Piece => ({ text, bad: on });

const methods: Piece[] = [
  ok('GET'),
  ok('GET'),
  ok('GET'),
  ok('POST'),
  ok('DELETE'),
  ok('HEAD'),
  ok('PUT'),
  ok('PATCH'),
  ok('OPTIONS'),
  bad('get'),
  bad('G\x00ET'),
  bad('FOO'),
  bad('GET\t'),
  bad('\u00c9GET'),
  bad('P0ST'),
];

const targets: Piece[] = [
  ok('/'),
  ok('/healthz'),
  ok('/healthz/live'),
  ok('/healthz/ready'),
  ok('/healthz/mounts'),
  ok('/metrics'),
  ok('/faults'),
  ok('/faults/fail-next'),
  ok('/faults/volumes/vol-1/condition'),
  ok('/faults/volumes/vol-1/latency'),
  ok('/faults/volumes/vol-1'),
  ok('/healthz?x=1&y=%zz'),
  ok('/nope'),
  ok('/%zz'),
  ok('http://example.com/healthz'),
  ok('/faults/volumes/..%2F..%2Fetc/condition'),
  ok(`/faults/volumes/${'a'.repeat(400)}/condition`),
  bad('//['),
  bad('http://[::1/'),
  bad('http://a:99999/'),
  bad('http://x:1:2/'),
  bad('*'),
  bad('//x/healthz'),
  bad('/\\healthz'),
  bad('ftp://x/healthz'),
  bad(`/${'x'.repeat(3000)}`),
  bad('/faults/volumes/%E0%A4%A/condition', ['fault']),
  bad('/healthz live'),
  bad('\x7f'),
  bad('/he\x01althz'),
];

function headerPieces(port: number): Piece[] {
  return [
    ok(''),
    ok('Accept: */*\r\n'),
    ok('User-Agent: fuzz\r\n'),
    ok('X-Many: a, b, c\r\n'),
    bad('Origin: http://evil.example\r\n', ['fault']),
    bad('Origin: null\r\n', ['fault']),
    bad('Sec-Fetch-Site: cross-site\r\n', ['fault']),
    ok('Sec-Fetch-Site: none\r\n'),
    bad('No colon here\r\n'),
    bad('Bad\x01Name: x\r\n'),
    bad(`X-Big: ${'b'.repeat(20_000)}\r\n`),
    bad('X-Ctl: a\x00b\r\n'),
    bad(' folded: x\r\n'),
    bad('Content-Length: 1\r\nContent-Length: 2\r\n'),
    bad('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n'),
    bad('Transfer-Encoding: gzip\r\n'),
    ok(`Referer: http://127.0.0.1:${port}/\r\n`),
  ];
}

const hosts = (port: number): Piece[] => [
  ok(`Host: 127.0.0.1:${port}\r\n`),
  ok(`Host: 127.0.0.1:${port}\r\n`),
  ok('Host: localhost\r\n'),
  ok('Host: [::1]:1\r\n'),
  bad('Host: evil.example\r\n', ['fault']),
  bad('Host: 127.0.0.1.nip.io\r\n', ['fault']),
  bad('Host: a b\r\n', ['fault']),
  bad('', both),
  bad('Host: x\r\nHost: y\r\n', ['fault']),
];

const bodies: Piece[] = [
  ok(''),
  ok(''),
  ok('{"operation":"stage","count":1,"duration":"1s"}'),
  ok('{"status":"DEGRADED","message":"fuzz","duration":"1s"}'),
  ok('{"latency":"1ms","duration":"1s"}'),
  ok('not json'),
  ok('[1,2]'),
  ok('{"count":1e309}'),
  ok('{"reason":"bad reason"}'),
  ok('\u00ff\u00fe'),
  ok('x'.repeat(70_000)),
];

const contentTypes: Piece[] = [
  ok('Content-Type: application/json\r\n'),
  ok('Content-Type: application/json; charset=utf-8\r\n'),
  bad('Content-Type: text/plain\r\n', ['fault']),
  bad('', ['fault']),
];

/** Builds a request from seeded choices; `next()` is a float in [0, 1). */
export function fuzzRequest(next: () => number, port: number): FuzzRequest {
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)] as T;
  // Each part is hostile one time in five, so that well-formed requests are common too.
  const choose = (xs: Piece[]): Piece => {
    const hostile = next() < 0.2;
    return pick(xs.filter((p) => p.bad.length > 0 === hostile));
  };
  const method = choose(methods);
  const target = choose(targets);
  const host = choose(hosts(port));
  const header = choose(headerPieces(port));
  const pieces = [method, target, host, header];
  let body = ok('');
  let contentType = ok('');
  if (method.text === 'POST' || (method.text === 'DELETE' && next() < 0.3) || next() < 0.05) {
    body = pick(bodies);
    contentType = body.text ? pick(contentTypes) : ok('');
    // A body on a method the fault API routes (POST, DELETE) without JSON: refused there.
    if (body.text && !['POST', 'DELETE'].includes(method.text)) contentType = { ...contentType, bad: [] };
  }
  pieces.push(contentType);
  const length = body.text ? `Content-Length: ${Buffer.byteLength(body.text, 'latin1')}\r\n` : '';
  const text = `${method.text} ${target.text} HTTP/1.1\r\n${host.text}${header.text}${contentType.text}${length}Connection: close\r\n\r\n${body.text}`;
  const badFor = new Set<HttpServerKind>(pieces.flatMap((p) => p.bad));
  return {
    bytes: Buffer.from(text, 'latin1'),
    badFor,
    describe: JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…(${text.length} bytes)` : text),
  };
}
