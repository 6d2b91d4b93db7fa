import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Acs3Verifier, parseRawQuery } from '../emulator/acs3-verifier.ts';
import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import { ACTIONS, API_VERSION, actionPath } from '../shared/actions.ts';
import type { Credentials } from '../shared/core/invocation.ts';
import {
  acs3Signature,
  acsDate,
  canonicalQueryString,
  sha256Hex,
  signRequest,
} from '../shared/elasticsearch/acs3-signer.ts';
import { type StartedEmulator, startEmulator } from './support/emulator-server.ts';

const T0 = Date.parse('2025-06-01T12:00:00Z');
const REQUEST_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const interrupt = ACTIONS['interrupt-elasticsearch-task'];
const TARGET = 'es-cn-demo-activating';

let clock = T0;
let server: StartedEmulator;

beforeAll(async () => {
  server = await startEmulator({ now: () => clock });
});
afterAll(() => server.close());
beforeEach(() => {
  clock = T0;
  server.emulator.reset();
});

interface Signed {
  url: string;
  init: { method: string; headers: Record<string, string>; body?: string };
}

/** A request signed by our signer, ready for fetch; every part can be overridden to forge one. */
function signed(
  options: {
    path?: string;
    query?: Record<string, string>;
    body?: string;
    credentials?: Credentials;
    date?: number;
    nonce?: string;
    action?: string;
  } = {},
): Signed {
  const path = options.path ?? actionPath(interrupt, TARGET);
  const query = options.query ?? { clientToken: 'tok-1' };
  const headers = signRequest({
    method: 'POST',
    host: server.endpoint,
    path,
    query,
    action: options.action ?? interrupt.operation,
    version: API_VERSION,
    body: options.body,
    contentType: options.body === undefined ? undefined : 'application/json; charset=utf-8',
    credentials: options.credentials ?? LOCAL_EMULATOR_CREDENTIALS,
    date: new Date(options.date ?? clock),
    nonce: options.nonce ?? randomUUID(),
  });
  const qs = canonicalQueryString(query);
  return {
    url: `${server.url}${path}${qs ? `?${qs}` : ''}`,
    init: { method: 'POST', headers, ...(options.body === undefined ? {} : { body: options.body }) },
  };
}

async function call(request: Signed): Promise<{ status: number; body: Record<string, unknown>; type: string | null }> {
  const res = await fetch(request.url, request.init);
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    type: res.headers.get('content-type'),
  };
}

const withHeaders = (request: Signed, change: (headers: Record<string, string>) => void): Signed => {
  const headers = { ...request.init.headers };
  change(headers);
  return { ...request, init: { ...request.init, headers } };
};

type Forgery = { name: string; make: () => Signed; status: number; code: string };

const forgeries: Forgery[] = [
  {
    name: 'a wrong secret',
    make: () => signed({ credentials: { ...LOCAL_EMULATOR_CREDENTIALS, accessKeySecret: 'wrong' } }),
    status: 400,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'an unknown access key',
    make: () => signed({ credentials: { accessKeyId: 'LTAI5tSomeoneElse', accessKeySecret: 'x' } }),
    status: 404,
    code: 'InvalidAccessKeyId.NotFound',
  },
  {
    name: 'an altered query',
    make: () => {
      const request = signed({ query: { clientToken: 'tok-1' } });
      return { ...request, url: request.url.replace('tok-1', 'tok-2') };
    },
    status: 400,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'an added query parameter',
    make: () => {
      const request = signed();
      return { ...request, url: `${request.url}&extra=1` };
    },
    status: 400,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'an altered path (signed for another instance)',
    make: () => {
      const request = signed({ path: actionPath(interrupt, 'es-cn-demo-active') });
      return { ...request, url: request.url.replace('es-cn-demo-active', TARGET) };
    },
    status: 400,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'an altered body',
    make: () => {
      const request = signed({ body: '{"a":1}' });
      return { ...request, init: { ...request.init, body: '{"a":2}' } };
    },
    status: 400,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'an altered body with its hash updated',
    make: () => {
      const request = withHeaders(signed({ body: '{"a":1}' }), (h) => {
        h['x-acs-content-sha256'] = sha256Hex('{"a":2}');
      });
      return { ...request, init: { ...request.init, body: '{"a":2}' } };
    },
    status: 400,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'an altered signed header',
    make: () =>
      withHeaders(signed(), (h) => {
        h['x-acs-signature-nonce'] = randomUUID();
      }),
    status: 400,
    code: 'SignatureDoesNotMatch',
  },
  {
    name: 'a stale x-acs-date (16 minutes old)',
    make: () => signed({ date: clock - 16 * 60_000 }),
    status: 400,
    code: 'InvalidTimeStamp.Expired',
  },
  {
    name: 'an x-acs-date 16 minutes ahead',
    make: () => signed({ date: clock + 16 * 60_000 }),
    status: 400,
    code: 'InvalidTimeStamp.Expired',
  },
  {
    name: 'no x-acs-date',
    make: () =>
      withHeaders(signed(), (h) => {
        delete h['x-acs-date'];
      }),
    status: 400,
    code: 'MissingParameter',
  },
  {
    name: 'an unparseable x-acs-date',
    make: () =>
      withHeaders(signed(), (h) => {
        h['x-acs-date'] = 'yesterday';
      }),
    status: 400,
    code: 'InvalidTimeStamp.Format',
  },
  {
    name: 'no Authorization',
    make: () =>
      withHeaders(signed(), (h) => {
        delete h.authorization;
      }),
    status: 400,
    code: 'IncompleteSignature',
  },
  {
    name: 'a garbled Authorization',
    make: () =>
      withHeaders(signed(), (h) => {
        h.authorization = 'ACS3-HMAC-SHA256 Credential=LTAI5tLocalEmulatorKey';
      }),
    status: 400,
    code: 'IncompleteSignature',
  },
  {
    name: 'a nonce left out of SignedHeaders',
    make: () => {
      const request = signed();
      const { 'x-acs-signature-nonce': _nonce, authorization: _auth, ...rest } = request.init.headers;
      const { signature, signedHeaders } = acs3Signature(
        {
          method: 'POST',
          path: actionPath(interrupt, TARGET),
          query: { clientToken: 'tok-1' },
          headers: rest,
          payloadHash: sha256Hex(''),
        },
        LOCAL_EMULATOR_CREDENTIALS.accessKeySecret,
      );
      return withHeaders(request, (h) => {
        h.authorization = `ACS3-HMAC-SHA256 Credential=${LOCAL_EMULATOR_CREDENTIALS.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`;
      });
    },
    status: 400,
    code: 'IncompleteSignature',
  },
];

describe('Class: Acs3Verifier (over HTTP)', () => {
  it('accepts a request signed with our signer and applies it', async () => {
    const reply = await call(signed());
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('application/json;charset=utf-8');
    expect(reply.body).toEqual({ RequestId: expect.stringMatching(REQUEST_ID), Result: true });
    expect(server.emulator.controlPlane.snapshot().instances.find((i) => i.instanceId === TARGET)).toMatchObject({
      status: 'suspended',
      history: [{ action: 'InterruptElasticsearchTask', clientToken: 'tok-1' }],
    });
  });

  it('accepts an STS-signed request (the token is signed, any value)', async () => {
    const credentials = { ...LOCAL_EMULATOR_CREDENTIALS, securityToken: 'CAIS-any-token' };
    expect((await call(signed({ credentials }))).status).toBe(200);
  });

  it('accepts a clientToken needing encoding and acts on the decoded value', async () => {
    const clientToken = "a b+c/d!'()*~%";
    expect((await call(signed({ query: { clientToken } }))).status).toBe(200);
    const state = server.emulator.controlPlane.snapshot().instances.find((i) => i.instanceId === TARGET);
    expect(state?.history[0]?.clientToken).toBe(clientToken);
  });

  it('accepts an x-acs-date 14 minutes off the emulator clock', async () => {
    expect((await call(signed({ date: clock - 14 * 60_000 }))).status).toBe(200);
  });

  it.each(forgeries)('refuses $name with $code and changes nothing', async ({ make, status, code }) => {
    const before = server.emulator.controlPlane.snapshot();
    const reply = await call(make());
    expect(reply.status).toBe(status);
    expect(reply.type).toBe('application/json;charset=utf-8');
    expect(reply.body).toEqual({
      RequestId: expect.stringMatching(REQUEST_ID),
      Code: code,
      Message: expect.any(String),
    });
    expect(server.emulator.controlPlane.snapshot()).toEqual(before);
  });

  it('refuses a reused nonce with SignatureNonceUsed and applies nothing twice', async () => {
    const request = signed({ query: {} });
    expect((await call(request)).status).toBe(200);
    const before = server.emulator.controlPlane.snapshot();
    const replay = await call(request);
    expect(replay.status).toBe(400);
    expect(replay.body.Code).toBe('SignatureNonceUsed');
    expect(server.emulator.controlPlane.snapshot()).toEqual(before);
  });

  it('a refused request does not spend its nonce', async () => {
    const nonce = randomUUID();
    const bad = signed({ nonce, credentials: { ...LOCAL_EMULATOR_CREDENTIALS, accessKeySecret: 'wrong' } });
    expect((await call(bad)).body.Code).toBe('SignatureDoesNotMatch');
    expect((await call(signed({ nonce }))).status).toBe(200);
  });
});

describe('Class: Acs3Verifier', () => {
  const credentials = [{ accessKeyId: 'AK', accessKeySecret: 'SK' }];
  const request = (date: number, nonce: string) => {
    const path = '/openapi/instances/es-x1';
    const headers = signRequest({
      method: 'GET',
      host: 'h',
      path,
      query: {},
      action: 'DescribeInstance',
      version: API_VERSION,
      credentials: credentials[0] as Credentials,
      date: new Date(date),
      nonce,
    });
    return { method: 'GET', path, rawQuery: '', headers, body: '' };
  };

  it('forgets a nonce once a request carrying it would be expired anyway', () => {
    let now = T0;
    const verifier = new Acs3Verifier({ credentials, now: () => now });
    expect(verifier.verify(request(now, 'n')).ok).toBe(true);
    now += 10 * 60_000;
    expect(verifier.verify(request(now, 'n'))).toMatchObject({
      ok: false,
      reply: { body: { Code: 'SignatureNonceUsed' } },
    });
    now += 6 * 60_000;
    expect(verifier.verify(request(now, 'n')).ok).toBe(true);
  });

  it('keeps at most maxNonces nonces', () => {
    const verifier = new Acs3Verifier({ credentials, now: () => T0, maxNonces: 2 });
    for (const nonce of ['a', 'b', 'c']) expect(verifier.verify(request(T0, nonce)).ok).toBe(true);
    // 'a' was forgotten early to stay within the bound; 'c' is still remembered.
    expect(verifier.verify(request(T0, 'a')).ok).toBe(true);
    expect(verifier.verify(request(T0, 'c')).ok).toBe(false);
  });

  it('returns the query it verified, decoded', () => {
    const verifier = new Acs3Verifier({ credentials, now: () => T0 });
    const path = '/openapi/instances/es-x1/actions/cancel-task';
    const query = { clientToken: 'a b', taskType: 'MigrateData' };
    const headers = signRequest({
      method: 'POST',
      host: 'h',
      path,
      query,
      action: 'CancelTask',
      version: API_VERSION,
      credentials: credentials[0] as Credentials,
      date: new Date(T0),
      nonce: 'q',
    });
    const result = verifier.verify({ method: 'POST', path, rawQuery: canonicalQueryString(query), headers, body: '' });
    expect(result).toMatchObject({ ok: true, accessKeyId: 'AK', query });
  });

  it('accepts the x-acs-date format only', () => {
    expect(acsDate(new Date(T0))).toBe('2025-06-01T12:00:00Z');
    const verifier = new Acs3Verifier({ credentials, now: () => T0 });
    const r = request(T0, 'f');
    r.headers['x-acs-date'] = '2025-06-01T12:00:00.000Z';
    expect(verifier.verify(r)).toMatchObject({ ok: false, reply: { body: { Code: 'InvalidTimeStamp.Format' } } });
  });
});

describe('Function: parseRawQuery', () => {
  it.each([
    ['', {}],
    ['a=1&b=2', { a: '1', b: '2' }],
    ['a=x%20y&b=p+q', { a: 'x y', b: 'p+q' }],
    ['flag&k=', { flag: '', k: '' }],
  ])('parses %j', (raw, expected) => {
    expect(parseRawQuery(raw)).toEqual(expected);
  });

  it('refuses broken percent-encoding', () => {
    expect(parseRawQuery('a=%E0%A4%A')).toBeUndefined();
  });
});
