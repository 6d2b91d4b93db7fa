import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LightHeaders, LightRequest } from '../shared/fc/light-request.ts';
import { jsonResponse, type LightResponse } from '../shared/http/light-response.ts';

/**
 * The lightweight Web classes that keep undici off the cold path must refuse and answer exactly
 * what undici's do: undici itself is the oracle here.
 */

const outcome = <T>(work: () => T): { ok: true; value: T } | { ok: false } => {
  try {
    return { ok: true, value: work() };
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return { ok: false };
  }
};

/** Header names and values near the edges: separators, whitespace, CR/LF/NUL, Latin-1, beyond Latin-1. */
const name = fc.oneof(
  fc.constantFrom('Content-Type', 'webhook-id', 'X-Evil', 'set-cookie', 'a b', 'a:b', '', 'é', 'x\r\ny', '`~|^'),
  fc.string({ unit: fc.constantFrom('a', 'B', '-', '_', ' ', ':', '"', '\t', '(', '!', 'ß'), maxLength: 6 }),
);
const value = fc.string({
  unit: fc.constantFrom('a', ' ', '\t', '\r', '\n', '\0', ',', 'é', '\u00ff', '\u0100', '😀', '"'),
  maxLength: 8,
});

describe('Function: LightHeaders', () => {
  it('refuses what Headers refuses and otherwise reads the same, whatever the names and values', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'append'), name, value), { maxLength: 6 }), (ops) => {
        const light = outcome(() => {
          const h = new LightHeaders();
          for (const [op, n, v] of ops) h[op](n, v);
          return h;
        });
        const real = outcome(() => {
          const h = new Headers();
          for (const [op, n, v] of ops) h[op](n, v);
          return h;
        });
        expect(light.ok).toBe(real.ok);
        if (!(light.ok && real.ok)) return;
        expect([...light.value]).toEqual([...real.value]);
        expect(light.value.getSetCookie()).toEqual(real.value.getSetCookie());
        for (const [, n] of ops) expect(outcome(() => light.value.get(n))).toEqual(outcome(() => real.value.get(n)));
      }),
    );
  });

  it('answers has, delete and forEach as Headers does', () => {
    const init: Array<[string, string]> = [
      ['B', '1'],
      ['a', '2'],
      ['b', '3'],
    ];
    const light = new LightHeaders(init);
    const real = new Headers(init);
    light.delete('A');
    real.delete('A');
    const seen = (h: Headers) => {
      const out: string[] = [];
      h.forEach((v, k) => {
        out.push(`${k}=${v}`);
      });
      return out;
    };
    expect(seen(light)).toEqual(seen(real));
    expect([light.has('b'), light.has('a')]).toEqual([real.has('b'), real.has('a')]);
  });
});

describe('Function: LightRequest', () => {
  it.each([
    ['post', 'https://fc.example.test/f/generic'],
    ['PATCH', 'https://fc.example.test/a?b=c'],
    ['Custom', 'https://fc.example.test/'],
    ['GET x', 'https://fc.example.test/'],
    ['TRACE', 'https://fc.example.test/'],
    ['connect', 'https://fc.example.test/'],
    ['', 'https://fc.example.test/'],
    ['POST', 'https://user:pass@fc.example.test/'],
  ])('takes method %s and URL %s exactly as Request does', (method, url) => {
    const light = outcome(() => new LightRequest(new URL(url), method, new LightHeaders()));
    const real = outcome(() => new Request(url, { method }));
    expect(light.ok).toBe(real.ok);
    if (light.ok && real.ok) {
      expect([light.value.method, light.value.url]).toEqual([real.value.method, real.value.url]);
    }
  });

  it('builds the undici Request, with the same method, URL and headers, only when asked for more', async () => {
    const request = new LightRequest(
      new URL('https://fc.example.test/f/generic'),
      'POST',
      new LightHeaders([['X-Id', '1']]),
    ).asRequest();
    expect(request.signal).toBeInstanceOf(AbortSignal);
    const real = (request as unknown as LightRequest).toRequest();
    expect([real.method, real.url, real.headers.get('x-id')]).toEqual(['POST', request.url, '1']);
    expect(await request.text()).toBe('');
    expect(request.clone()).toBeInstanceOf(Request);
  });
});

describe('Function: jsonResponse', () => {
  it('is what c.json with the same arguments answers, read as a Response', async () => {
    const body = { results: [], error: { code: 'X', message: 'é "quoted"' } };
    const light = jsonResponse(body, 418, { 'Cache-Control': 'no-store' });
    const real = new Response(JSON.stringify(body), {
      status: 418,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
    expect((light as unknown as LightResponse).parts()).toEqual({
      status: 418,
      headers: Object.fromEntries(real.headers),
      body: JSON.stringify(body),
    });
    expect([light.status, light.ok, Object.fromEntries(light.headers)]).toEqual([
      real.status,
      real.ok,
      Object.fromEntries(real.headers),
    ]);
    expect(await light.json()).toEqual(await real.json());
  });

  it('gives its parts up once something built the Response, which may have been changed', () => {
    const light = jsonResponse({}, 200) as unknown as LightResponse;
    light.asResponse().headers.set('x-added', '1');
    expect(light.parts()).toBeUndefined();
    expect(light.toResponse().headers.get('x-added')).toBe('1');
  });
});
