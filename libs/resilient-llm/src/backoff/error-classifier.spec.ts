import { HttpException, HttpStatus } from '@nestjs/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { classifyFailure } from './error-classifier.js';

function sdkError(status: number, body: object = {}, headers: Record<string, string> = {}) {
  return APIError.generate(status, { error: body }, undefined, new Headers(headers));
}

describe('classifyFailure', () => {
  it.each([429, 408, 409, 500, 502, 503, 504])('retries HTTP %i', (status) => {
    expect(classifyFailure(sdkError(status))).toMatchObject({ retryable: true, status });
  });

  it.each([400, 401, 403, 404, 422])('never retries HTTP %i', (status) => {
    expect(classifyFailure(sdkError(status))).toMatchObject({ retryable: false, kind: 'client_error', status });
  });

  it('never retries insufficient_quota, even when the server says x-should-retry: true', () => {
    const error = sdkError(429, { code: 'insufficient_quota', type: 'insufficient_quota' }, { 'x-should-retry': 'true' });
    expect(classifyFailure(error)).toMatchObject({ retryable: false, kind: 'insufficient_quota', code: 'insufficient_quota' });
  });

  it('never retries context-length errors', () => {
    const error = sdkError(400, { code: 'context_length_exceeded', type: 'invalid_request_error' });
    expect(classifyFailure(error)).toMatchObject({ retryable: false, kind: 'context_length' });
  });

  it('lets x-should-retry override the status rule both ways', () => {
    expect(classifyFailure(sdkError(503, {}, { 'x-should-retry': 'false' }))).toMatchObject({ retryable: false, kind: 'server_error' });
    expect(classifyFailure(sdkError(400, {}, { 'x-should-retry': 'true' }))).toMatchObject({ retryable: true, kind: 'client_error' });
  });

  it('retries connection failures and timeouts, not caller aborts', () => {
    expect(classifyFailure(new APIConnectionError({ message: 'reset' }))).toMatchObject({ retryable: true, kind: 'connection' });
    expect(classifyFailure(new APIConnectionTimeoutError())).toMatchObject({ retryable: true, kind: 'timeout' });
    expect(classifyFailure(new APIUserAbortError())).toMatchObject({ retryable: false, kind: 'aborted' });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyFailure(new Error('fetch failed', { cause: reset }))).toMatchObject({ retryable: true, kind: 'connection', code: 'ECONNRESET' });
  });

  it("does not retry the handler's own errors", () => {
    expect(classifyFailure(new HttpException('nope', HttpStatus.SERVICE_UNAVAILABLE))).toMatchObject({ retryable: false, kind: 'application' });
    expect(classifyFailure(new TypeError('bug'))).toMatchObject({ retryable: false, kind: 'application' });
    expect(classifyFailure('a string')).toMatchObject({ retryable: false, kind: 'application' });
  });
});
