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

  it("reads as the upstream's text otherwise, once, like any Response", async () => {
    await expect(new ParsedAnswer(text, init, { other: true }).text()).resolves.toBe(text);
    const answer = new ParsedAnswer(text, init, { first: true });
    await answer.json();
    expect(answer.bodyUsed).toBe(true);
    await expect(answer.json()).rejects.toThrow(TypeError);
    await expect(answer.text()).rejects.toThrow(TypeError);
    expect(() => answer.clone()).toThrow(TypeError);
  });

  it("clones with the upstream's headers and text, and types its blob as the upstream did", async () => {
    const answer = new ParsedAnswer(text, init, { first: true });
    const copy = answer.clone();
    expect(copy.headers.get('x-request-id')).toBe('req_1');
    await expect(copy.json()).resolves.toEqual(JSON.parse(text));
    expect((await answer.blob()).type).toBe('application/json');
  });
});
