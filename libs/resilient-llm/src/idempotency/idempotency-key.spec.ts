import fc from 'fast-check';
import { canonicalJson, parseIdempotencyKey, recordId, requestFingerprint } from './idempotency-key.js';

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
        expect(canonicalJson(reversed)).toBe(canonicalJson(object));
      }),
    );
    const base = { method: 'POST', path: '/chat', scope: 'a', body: canonicalJson({ message: 'hi' }) };
    expect(requestFingerprint(base)).toBe(requestFingerprint({ ...base, method: 'post' }));
    expect(requestFingerprint(base)).not.toBe(requestFingerprint({ ...base, body: canonicalJson({ message: 'ho' }) }));
    expect(requestFingerprint(base)).not.toBe(requestFingerprint({ ...base, scope: 'b' }));
    expect(requestFingerprint(base)).not.toBe(requestFingerprint({ ...base, path: '/chat?x=1' }));
  });

  it('scopes record ids to the caller', () => {
    expect(recordId('tenant-a', 'k1')).not.toBe(recordId('tenant-b', 'k1'));
    expect(recordId('tenant-a', 'k1')).toMatch(/^[0-9a-f]{64}$/);
  });
});
