import { headerOccurrences } from './header-occurrences.js';

describe('headerOccurrences', () => {
  it('counts the header lines Node received, whatever their case', () => {
    const request = { rawHeaders: ['Host', 'x', 'X-Tenant-Id', 'a', 'x-tenant-id', 'b'], headers: { 'x-tenant-id': 'a, b' } };
    expect(headerOccurrences(request, 'x-tenant-id')).toBe(2);
    expect(headerOccurrences(request, 'Host')).toBe(1);
    expect(headerOccurrences(request, 'idempotency-key')).toBe(0);
  });

  it("reads Fastify's raw Node request", () => {
    expect(headerOccurrences({ raw: { rawHeaders: ['Idempotency-Key', 'a', 'Idempotency-Key', 'b'] }, headers: {} }, 'idempotency-key')).toBe(2);
  });

  it('falls back to the parsed headers when there are no raw ones', () => {
    expect(headerOccurrences({ headers: { 'x-a': ['1', '2'] } }, 'x-a')).toBe(2);
    expect(headerOccurrences({ headers: { 'x-a': '1, 2' } }, 'x-a')).toBe(1);
    expect(headerOccurrences({ headers: {} }, 'x-a')).toBe(0);
    expect(headerOccurrences(undefined, 'x-a')).toBe(0);
  });
});
