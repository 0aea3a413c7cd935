import { FaultUpstream } from '@app/fault-upstream';
import { MAX_IDEMPOTENT_BODY_DEPTH } from '../libs/resilient-llm/src/idempotency/idempotency-key.js';
import type { Test } from 'supertest';
import { malformedRequestsModule } from './apps/malformed-requests.app.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

type Http = TestApp['http'];

interface MalformedRequest {
  name: string;
  send: (http: Http) => Test;
  /** The status the request must get: the library's, Nest's body parser's, or the handler's own validation. */
  status: number;
  /** The body's `code`, where the answer is the library's. */
  code?: string;
  /** What the body's message must say. */
  message?: RegExp;
  /**
   * Where Fastify's own parsing answers otherwise (it reads no form bodies, ignores
   * Content-Encoding and GET bodies, allows 1 MB): its status; `code` and `message` then do not apply.
   */
  fastify?: number;
}

const MAX_BODY_BYTES = 16_384;
/** One header line per value: superagent sends an array so, though its types say it only for Cookie. */
const setHeader = (test: Test, name: string, value: string | string[]) => test.set(name, value as string);
const json = (body: string | Buffer, type = 'application/json') => (http: Http) => http().post('/tickets').set('Idempotency-Key', 'k-json').set('Content-Type', type).send(body);
const keyed = (key: string | string[]) => (http: Http) => setHeader(http().post('/tickets'), 'Idempotency-Key', key).send({ subject: 'printer' });
const scoped = (tenant: string | string[], key?: string) => (http: Http) => {
  const request = setHeader(http().post('/tickets'), 'x-tenant-id', tenant);
  return (key ? request.set('Idempotency-Key', key) : request).send({ subject: 'printer' });
};
const view = (query: string, tenant: string | string[] = 'tenant-a') => (http: Http) => setHeader(http().get(`/resilient-llm/budget${query}`), 'x-tenant-id', tenant);
const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}1${close.repeat(depth)}`;
/** UTF-8 bytes sent as they are: Node reads header bytes above 0x7f as Latin-1 characters. */
const rawUtf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const cases: MalformedRequest[] = [
  // Bodies that are not JSON, under a JSON content type: the body parser answers 400.
  ...['{', '{"subject":}', '[1,2,', 'nul', '{"subject":"a"}}', "{'subject':'a'}", '{"subject":"\\u00"}', '{"subject":NaN}', '{"subject":undefined}', '{subject:"a"}', '"a string"', '42', 'true', '{"a":1,}', '\u0000', '{"subject":"a"\u0000}'].map(
    (body): MalformedRequest => ({ name: `JSON body ${JSON.stringify(body)}`, send: json(body), status: 400 }),
  ),
  { name: 'JSON body of invalid UTF-8 bytes', send: json(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), status: 400 },
  { name: 'JSON body with a BOM and garbage', send: json(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7b])), status: 400 },
  { name: 'JSON in an unsupported charset', send: json('{"subject":"a"}', 'application/json; charset=latin1'), status: 415, message: /charset/i, fastify: 201 },
  {
    name: 'a body that claims gzip and is not',
    send: (http) => http().post('/tickets').set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{"subject":"a"}'),
    status: 400,
    fastify: 201,
  },
  {
    name: 'a body in an unknown content encoding',
    send: (http) => http().post('/tickets').set('Content-Type', 'application/json').set('Content-Encoding', 'x-nonsense').send('{"subject":"a"}'),
    status: 415,
    message: /encoding/i,
    fastify: 201,
  },
  { name: 'a form body nested past the parser depth', send: json(`${'a'}${'[b]'.repeat(40)}=1`, 'application/x-www-form-urlencoded'), status: 400, message: /depth/, fastify: 422 },

  // Deep nesting: the fingerprint refuses past the documented depth, and never overflows the stack.
  { name: '5,000-deep arrays (10 KB) with a key', send: json(nested(5_000)), status: 400, code: 'idempotency_body_too_deep', message: new RegExp(`${MAX_IDEMPOTENT_BODY_DEPTH} levels`) },
  { name: '5,000-deep objects with a key', send: json(nested(5_000, '{"a":', '}')), status: 400, code: 'idempotency_body_too_deep' },
  { name: `${MAX_IDEMPOTENT_BODY_DEPTH + 1}-deep arrays with a key`, send: json(nested(MAX_IDEMPOTENT_BODY_DEPTH + 1)), status: 400, code: 'idempotency_body_too_deep' },
  {
    name: 'a deep value under a valid subject',
    send: json(`{"subject":"a","extra":${nested(MAX_IDEMPOTENT_BODY_DEPTH)}}`),
    status: 400,
    code: 'idempotency_body_too_deep',
  },
  { name: '5,000-deep arrays without a key (the handler refuses it)', send: (http) => http().post('/tickets').set('Content-Type', 'application/json').send(nested(5_000)), status: 400, code: 'invalid_ticket' },
  { name: '100,000-deep arrays (200 KB, past the body limit)', send: json(nested(100_000)), status: 413, fastify: 400 },

  // Idempotency-Key headers: missing, empty, huge, non-ASCII, repeated.
  { name: 'an empty Idempotency-Key', send: keyed(''), status: 400, code: 'idempotency_key_invalid', message: /empty/ },
  { name: 'an Idempotency-Key of spaces', send: keyed('    '), status: 400, code: 'idempotency_key_invalid', message: /empty/ },
  { name: 'an empty quoted Idempotency-Key', send: keyed('""'), status: 400, code: 'idempotency_key_invalid', message: /empty/ },
  { name: 'a 256-character Idempotency-Key', send: keyed('k'.repeat(256)), status: 400, code: 'idempotency_key_invalid', message: /at most 255/ },
  { name: 'a 12,000-character Idempotency-Key', send: keyed('k'.repeat(12_000)), status: 400, code: 'idempotency_key_invalid', message: /12000 characters/ },
  { name: 'a quoted 300-character Idempotency-Key', send: keyed(`"${'q'.repeat(300)}"`), status: 400, code: 'idempotency_key_invalid', message: /at most 255/ },
  { name: 'an Idempotency-Key with a tab', send: keyed('a\tb'), status: 400, code: 'idempotency_key_invalid', message: /printable ASCII/ },
  { name: 'a Latin-1 Idempotency-Key', send: keyed('caf\u00e9'), status: 400, code: 'idempotency_key_invalid', message: /printable ASCII/ },
  { name: 'a UTF-8 Idempotency-Key', send: keyed(rawUtf8('ключ-1')), status: 400, code: 'idempotency_key_invalid', message: /printable ASCII/ },
  { name: 'an emoji Idempotency-Key', send: keyed(rawUtf8('🔑')), status: 400, code: 'idempotency_key_invalid', message: /printable ASCII/ },
  { name: 'two different Idempotency-Key headers', send: keyed(['dup-a', 'dup-b']), status: 400, code: 'idempotency_key_invalid', message: /appears 2 times/ },
  { name: 'the same Idempotency-Key twice', send: keyed(['dup', 'dup']), status: 400, code: 'idempotency_key_invalid', message: /appears 2 times/ },
  { name: 'three Idempotency-Key headers', send: keyed(['a', 'b', 'c']), status: 400, code: 'idempotency_key_invalid', message: /appears 3 times/ },
  { name: 'an empty and a valid Idempotency-Key', send: keyed(['', 'valid']), status: 400, code: 'idempotency_key_invalid', message: /appears 2 times/ },
  { name: 'no key where one is required', send: (http) => http().post('/tickets/required-key?priority=1'), status: 400, code: 'idempotency_key_missing' },
  { name: 'a repeated key where one is required', send: (http) => setHeader(http().post('/tickets/required-key?priority=1'), 'Idempotency-Key', ['a', 'b']), status: 400, code: 'idempotency_key_invalid' },
  { name: 'a key with a bad query value (the pipe refuses it)', send: (http) => http().post('/tickets/required-key?priority=high').set('Idempotency-Key', 'p'), status: 400, message: /numeric/ },
  {
    name: 'a body over idempotency.maxBodyBytes',
    send: (http) => http().post('/tickets').set('Idempotency-Key', 'big').send({ subject: 'x'.repeat(MAX_BODY_BYTES) }),
    status: 400,
    code: 'idempotency_body_too_large',
    message: new RegExp(`over ${MAX_BODY_BYTES} bytes`),
  },
  { name: 'a key reused with another body', send: (http) => http().post('/tickets').set('Idempotency-Key', 'taken').send({ subject: 'another' }), status: 422, code: 'idempotency_key_reused' },

  // Scope headers: bad keys and repeats, with and without an idempotency key.
  ...[
    ['with a space', 'tenant a'],
    ['with a tab', 'tenant\ta'],
    ['of 201 characters', 't'.repeat(201)],
    ['in Latin-1', 'm\u00fcller'],
    ['in UTF-8', rawUtf8('арендатор')],
  ].flatMap(([what, tenant]): MalformedRequest[] => [
    { name: `a scope header ${what}`, send: scoped(tenant), status: 400, code: 'invalid_scope', message: /printable ASCII/ },
    { name: `a scope header ${what}, with a key`, send: scoped(tenant, 'scoped'), status: 400, code: 'invalid_scope', message: /printable ASCII/ },
  ]),
  { name: 'two scope headers', send: scoped(['tenant-a', 'tenant-b']), status: 400, code: 'invalid_scope', message: /x-tenant-id header appears 2 times/ },
  { name: 'two scope headers, with a key', send: scoped(['tenant-a', 'tenant-b'], 'scoped'), status: 400, code: 'invalid_scope', message: /appears 2 times/ },
  { name: 'the same scope header twice', send: scoped(['tenant-a', 'tenant-a']), status: 400, code: 'invalid_scope', message: /appears 2 times/ },
  { name: 'a joined-looking scope header', send: scoped('tenant-a, tenant-b'), status: 400, code: 'invalid_scope' },

  // The budget view: bad, repeated and foreign ?scope= values.
  { name: 'view: a control character in ?scope=', send: view('?scope=%01'), status: 400, code: 'invalid_scope' },
  { name: 'view: a space in ?scope=', send: view('?scope=a%20b'), status: 400, code: 'invalid_scope' },
  { name: 'view: an empty ?scope=', send: view('?scope='), status: 400, code: 'invalid_scope' },
  { name: 'view: a 201-character ?scope=', send: view(`?scope=${'s'.repeat(201)}`), status: 400, code: 'invalid_scope' },
  { name: 'view: a 10,000-character ?scope=', send: view(`?scope=${'s'.repeat(10_000)}`), status: 400, code: 'invalid_scope' },
  { name: 'view: a non-ASCII ?scope=', send: view('?scope=%E2%82%AC'), status: 400, code: 'invalid_scope' },
  { name: 'view: invalid UTF-8 in ?scope=', send: view('?scope=%FF%FE'), status: 400, code: 'invalid_scope', fastify: 403 },
  { name: 'view: ?scope= twice', send: view('?scope=tenant-a&scope=tenant-b'), status: 400, code: 'invalid_scope', message: /once/ },
  { name: 'view: ?scope= twice, both its own', send: view('?scope=tenant-a&scope=tenant-a'), status: 400, code: 'invalid_scope', message: /once/ },
  { name: 'view: a bad percent escape in ?scope=', send: view('?scope=%ZZ'), status: 403, code: 'budget_scope_forbidden' },
  { name: "view: another tenant's ?scope=", send: view('?scope=tenant-b'), status: 403, code: 'budget_scope_forbidden', message: /"tenant-a"/ },
  { name: 'view: ?scope=global', send: view('?scope=global'), status: 403, code: 'budget_scope_forbidden' },
  { name: 'view: ?scope= from a caller without a scope', send: (http) => http().get('/resilient-llm/budget?scope=tenant-a'), status: 403, code: 'budget_scope_forbidden' },
  { name: 'view: no scope at all', send: (http) => http().get('/resilient-llm/budget'), status: 403, code: 'budget_scope_forbidden' },
  { name: 'view: two scope headers', send: view('', ['tenant-a', 'tenant-b']), status: 400, code: 'invalid_scope', message: /appears 2 times/ },
  { name: 'view: a bad scope header', send: view('', 'tenant a'), status: 400, code: 'invalid_scope' },
  // Express's query parser keeps `scope[]` as a name of its own: the caller gets its own scope.
  { name: 'view: ?scope[]= as an array', send: view('?scope[]=tenant-b'), status: 200 },
  { name: 'view: a malformed JSON body on the GET', send: (http) => view('')(http).set('Content-Type', 'application/json').send('{'), status: 400, fastify: 200 },

  // Content types the handler cannot read: no parser runs, and the handler's own check answers.
  ...['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'nonsense', 'application/vnd.api+json', 'application/json-seq'].map(
    (type): MalformedRequest => ({ name: `a ${type} body`, send: json('{"subject":"a"}', type), status: 400, code: 'invalid_ticket', fastify: type === 'text/plain' ? 422 : 415 }),
  ),

  // Oversize bodies: over Express's 100 KB default, with and without a key.
  { name: 'a 200 KB JSON body with a key', send: json(JSON.stringify({ subject: 'x'.repeat(200_000) })), status: 413, message: /too large/, fastify: 400 },
  { name: 'a 200 KB JSON body without a key', send: (http) => http().post('/tickets').set('Content-Type', 'application/json').send(JSON.stringify({ subject: 'x'.repeat(200_000) })), status: 413, fastify: 201 },
  { name: 'a 2 MB form body', send: json(`subject=${'x'.repeat(2_000_000)}`, 'application/x-www-form-urlencoded'), status: 413 },

  // Routes and methods that do not exist.
  { name: 'an unknown method on a route', send: (http) => http().patch('/tickets').set('Idempotency-Key', 'm'), status: 404 },
  { name: 'a percent-broken path', send: (http) => http().post('/tickets/%E0%A4%A').set('Idempotency-Key', 'p'), status: 404, fastify: 400 },
];

describe.each(HTTP_ADAPTERS)('malformed requests never reach a 500, on %s', (adapter) => {
  let upstream: FaultUpstream;
  let testApp: TestApp;
  const seen = new Map<number, number>();

  beforeAll(async () => {
    upstream = await FaultUpstream.start();
    testApp = await createTestApp({
      imports: [
        malformedRequestsModule(
          {
            client: { apiKey: 't', baseURL: upstream.baseURL },
            storage: { database: ':memory:' },
            budget: { limits: { dailyUsd: 100 }, scopeLimits: { dailyUsd: 10 } },
            scope: { header: 'x-tenant-id' },
            idempotency: { maxBodyBytes: MAX_BODY_BYTES },
          },
          true,
        ),
      ],
    }, undefined, adapter);
    // A key already used, for the "reused with another body" case.
    await testApp.http().post('/tickets').set('Idempotency-Key', 'taken').send({ subject: 'first' }).expect(201);
  });
  afterAll(async () => {
    await testApp.app.close();
    await upstream.stop();
  });

  it.each(cases)('$name: $status', async ({ send, status: onExpress, code: expressCode, message: expressMessage, fastify }) => {
    const platformSpecific = adapter === 'fastify' && fastify !== undefined;
    const status = platformSpecific ? fastify : onExpress;
    const [code, message] = platformSpecific ? [] : [expressCode, expressMessage];
    const response = await send(testApp.http);
    seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
    expect(response.status, response.text.slice(0, 300)).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    if (status >= 400) {
      expect(response.body.statusCode).toBe(status);
      const said = Array.isArray(response.body.message) ? response.body.message.join(' ') : response.body.message;
      expect(typeof said === 'string' && said.length > 0, `a message in ${response.text.slice(0, 300)}`).toBe(true);
      if (message) expect(said).toMatch(message);
    }
    if (code) expect(response.body.code).toBe(code);
  });

  it(`sent ${cases.length} requests: no 500, every one answered with its status`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(70);
    expect([...seen.values()].reduce((sum, count) => sum + count, 0)).toBe(cases.length);
    expect(seen.get(500)).toBeUndefined();
    expect([...seen.keys()].every((status) => status < 500)).toBe(true);
  });
});
