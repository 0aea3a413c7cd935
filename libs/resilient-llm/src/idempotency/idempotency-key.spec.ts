import fc from 'fast-check';
import { MAX_IDEMPOTENT_BODY_DEPTH, canonicalJson, parseIdempotencyKey, recordId, requestFingerprint } from './idempotency-key.js';

const canonical = (value: unknown) => {
  const result = canonicalJson(value);
  if (!result.ok) throw new Error(`refused at depth ${result.maxDepth}`);
  return result.json;
};

/** Arrays nested `depth` deep around a number: `[[[1]]]` is depth 3. */
const nestedArrays = (depth: number): unknown => {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
};

/** Objects nested `depth` deep, as JSON.parse builds them from text (it takes any depth). */
const nestedObjectsFromText = (depth: number): unknown => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);


describe('idempotency keys', () => {
  it('accepts raw and quoted keys', () => {
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toEqual({ ok: true, key: '8e03978e-40d5-43e8-bc93-6894a57f9324' });
    expect(parseIdempotencyKey('"8e03978e"')).toEqual({ ok: true, key: '8e03978e' });
    expect(parseIdempotencyKey('"say \\"hi\\""')).toEqual({ ok: true, key: 'say "hi"' });
    expect(parseIdempotencyKey(undefined)).toEqual({ ok: 'absent' });
  });

  it.each([
    ['', /empty/],
    ['""', /empty/],
    ['x'.repeat(256), /256 characters long; at most 255/],
    ['tab\there', /printable ASCII/],
    ['caf\u00e9', /printable ASCII/],
  ])('rejects %j', (header, reason) => {
    const parsed = parseIdempotencyKey(header);
    expect(parsed.ok).toBe(false);
    expect((parsed as { reason: string }).reason).toMatch(reason);
  });

  it('fingerprints bodies by content, not key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        expect(canonical(reversed)).toBe(canonical(object));
      }),
    );
    const base = { method: 'POST', path: '/chat', scope: 'a', body: canonical({ message: 'hi' }) };
    expect(requestFingerprint(base)).toBe(requestFingerprint({ ...base, method: 'post' }));
    expect(requestFingerprint(base)).not.toBe(requestFingerprint({ ...base, body: canonical({ message: 'ho' }) }));
    expect(requestFingerprint(base)).not.toBe(requestFingerprint({ ...base, scope: 'b' }));
    expect(requestFingerprint(base)).not.toBe(requestFingerprint({ ...base, path: '/chat?x=1' }));
  });

  it('writes what the former recursive version wrote: keys sorted at every level, undefined fields left out', () => {
    const recursive = (value: unknown): string => {
      if (value === undefined) return 'null';
      if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      if (Array.isArray(value)) return `[${value.map(recursive).join(',')}]`;
      const entries = Object.entries(value)
        .filter(([, field]) => field !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([name, field]) => `${JSON.stringify(name)}:${recursive(field)}`).join(',')}}`;
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonical(value)).toBe(recursive(value));
      }),
    );
    expect(canonical({ b: [1, undefined, 'x'], a: { d: undefined, c: null } })).toBe('{"a":{"c":null},"b":[1,null,"x"]}');
    expect(canonical(undefined)).toBe('null');
  });

  it(`takes bodies up to ${MAX_IDEMPOTENT_BODY_DEPTH} levels deep and refuses deeper ones, naming the limit`, () => {
    expect(canonical(nestedArrays(MAX_IDEMPOTENT_BODY_DEPTH))).toBe(`${'['.repeat(MAX_IDEMPOTENT_BODY_DEPTH)}1${']'.repeat(MAX_IDEMPOTENT_BODY_DEPTH)}`);
    expect(canonicalJson(nestedArrays(MAX_IDEMPOTENT_BODY_DEPTH + 1))).toEqual({ ok: false, maxDepth: MAX_IDEMPOTENT_BODY_DEPTH });
    expect(canonicalJson({ list: [{ deep: nestedArrays(MAX_IDEMPOTENT_BODY_DEPTH - 2) }] })).toEqual({ ok: false, maxDepth: MAX_IDEMPOTENT_BODY_DEPTH });
  });

  it.each([5_000, 100_000])('refuses a body nested %i deep without overflowing the stack', (depth) => {
    expect(canonicalJson(nestedArrays(depth))).toEqual({ ok: false, maxDepth: MAX_IDEMPOTENT_BODY_DEPTH });
    expect(canonicalJson(nestedObjectsFromText(depth))).toEqual({ ok: false, maxDepth: MAX_IDEMPOTENT_BODY_DEPTH });
  });

  it('writes a 100 000-deep value when the limit allows it: the walk itself needs no call stack', () => {
    const json = canonicalJson(nestedObjectsFromText(100_000), Infinity);
    expect(json).toEqual({ ok: true, json: `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}` });
  });

  it('scopes record ids to the caller', () => {
    expect(recordId('tenant-a', 'k1')).not.toBe(recordId('tenant-b', 'k1'));
    expect(recordId('tenant-a', 'k1')).toMatch(/^[0-9a-f]{64}$/);
  });
});
