import { mayBeBilledUnseen } from './unseen-billing.js';

const charged = { chargeTimedOutAttempts: true };
const refused = Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
const reset = Object.assign(new Error('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });

describe('attempts that may have been billed with no answer to say what they used', () => {
  it.each([
    ['a timeout', {}, 'timeout', true],
    ['an abort after sending (the caller, a disconnect, shutdown)', {}, 'aborted', true],
    ['a connection lost after sending', { error: reset }, 'connection', true],
    ['a connection never made', { error: refused }, 'connection', false],
    ['an error answer (503)', { response: new Response('{}', { status: 503 }) }, 'server_error', false],
    ['an error of our own', { error: new TypeError('bad') }, 'application', false],
  ] as const)('%s: %s', (_, failed, kind, expected) => {
    expect(mayBeBilledUnseen(failed, { kind }, charged)).toBe(expected);
  });

  it('charges timeouts only with budget.chargeTimedOutAttempts', () => {
    expect(mayBeBilledUnseen({}, { kind: 'timeout' }, { chargeTimedOutAttempts: false })).toBe(false);
  });
});
