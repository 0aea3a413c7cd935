import { ParsedAnswer } from './parsed-answer.js';

describe('ParsedAnswer', () => {
  const text = '{"id":"chatcmpl-1","usage":{"prompt_tokens":3}}';
  const init = { status: 200, statusText: 'OK', headers: new Headers({ 'content-type': 'application/json', 'x-request-id': 'req_1' }) };

  it("gives json() the object the transport parsed, and keeps the upstream's status and headers", async () => {
    const parsed = JSON.parse(text);
    const answer = new ParsedAnswer(text, init, parsed);
    expect(answer.status).toBe(200);
    expect(answer.statusText).toBe('OK');
    expect(answer.headers.get('x-request-id')).toBe('req_1');
    await expect(answer.json()).resolves.toBe(parsed);
  });

  it("reads as the upstream's text otherwise, and parses it anew on a second json()", async () => {
    await expect(new ParsedAnswer(text, init, { other: true }).text()).resolves.toBe(text);
    const answer = new ParsedAnswer(text, init, { first: true });
    await answer.json();
    await expect(answer.json()).resolves.toEqual(JSON.parse(text));
  });
});
