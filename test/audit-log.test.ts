import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRequester } from './support/requester.ts';

/** The chat users sendersEnv allows. */
const KIT_USERS: Record<string, string> = { slack: SLACK_USER, dingtalk: DINGTALK_USER, feishu: FEISHU_USER };

import { LOCAL_EMULATOR_CREDENTIALS } from '../emulator/credentials.ts';
import type { Faults } from '../emulator/faults.ts';
import type { Env } from '../shared/config.ts';
import { createFunctionHandler } from '../shared/create-function.ts';
import type { FcHandler } from '../shared/fc/adapter.ts';
import type { FcContext } from '../shared/fc/events.ts';
import { SOURCE_NAMES, type SourceName } from '../shared/sources/registry.ts';
import { DINGTALK_USER } from './fixtures/dingtalk/kit.ts';
import { FEISHU_SECRETS, FEISHU_USER } from './fixtures/feishu/kit.ts';
import { GENERIC_SECRETS } from './fixtures/generic/kit.ts';
import { SLACK_USER } from './fixtures/slack/kit.ts';
import { type StartedEmulator, startEmulator } from './support/emulator-server.ts';
import { cloudEnv } from './support/function-harness.ts';
import { captureOutput, outputLines } from './support/log-capture.ts';
import {
  allConfiguredSecrets,
  credentialValues,
  type Delivery,
  deliveryBody,
  deliveryRequest,
  fcHttpEvent,
  goodDelivery,
  httpAnswer,
  KITS,
  MEDIA_TYPE,
  type RawHttpRequest,
  sendersEnv,
  sign,
  stsContext,
} from './support/senders.ts';

/**
 * Audit logging: every decision of every sender's scenarios (delivered, retried, refused for
 * auth, payload and policy, failed upstream, DRY_RUN, timer and internal command events) is one
 * structured JSON line keyed by the FC request ID, and the whole output holds no secret,
 * signature, access key secret or STS credential.
 */

const FN = 'interrupt-elasticsearch-task';
/** The person each chat sender's deliveries come from. */
const CHAT_USER_OF: Record<string, string> = { slack: SLACK_USER, dingtalk: DINGTALK_USER, feishu: FEISHU_USER };
/** The FC role's STS credentials, as FC puts them in the context. */
const STS = {
  accessKeyId: 'STS.NUgYrLnoC37mZZCNnAbez2Zy',
  accessKeySecret: 'sts-secret-Hx8Wq2Zr5Tn7Yb3Vk9Lm1Pd4',
  securityToken: 'CAISzQJ1q6Ft5B2yfSjIr5-audit-security-token-7Jd2Kq',
};

type Kind =
  | 'valid'
  | 'retried'
  | 'wrong-credentials'
  | 'malformed'
  | 'policy'
  | 'upstream-failure'
  | 'dry-run'
  | 'timer'
  | 'command'
  | 'challenge'
  | 'too-large'
  | 'media-type';

interface Scenario {
  kind: Kind;
  source: SourceName;
  /** The `source` the log lines must carry. */
  logSource: string;
  fcRequestId: string;
  /** What the function answered (HTTP) or returned (timer, command). */
  status: number;
  answer: string;
  lines: string[];
  faults?: Faults;
}

let upstream: StartedEmulator;
const scenarios: Scenario[] = [];
/** Every signature, token and sign value the scenarios sent. */
const sentCredentials = new Set<string>();
let allText = '';

function handler(env: Env = {}): FcHandler {
  return createFunctionHandler(FN, {
    env: {
      ...sendersEnv(),
      // Its access key pair is configured but unused (the context's STS credentials win): must not be logged either.
      ...cloudEnv(upstream.url),
      ALLOWED_INSTANCES: 'es-cn-demo-*',
      MAX_BODY_BYTES: '65536',
      RETRY_DEADLINE_MS: '350',
      COMMAND_DEADLINE_MS: '350',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      ...env,
    },
    replySender: { send: async () => {} },
  });
}

/** Upstream faults, one per sender in turn, so each kind is seen at least twice. */
const FAULTS: Faults[] = [{ throttle: 1 }, { serverError: 1 }, { dropResponse: 1 }];

let counter = 0;
const nextRequestId = (source: string, kind: Kind) => `fc-${source}-${kind}-${++counter}-1a2b3c`;

beforeAll(async () => {
  upstream = await startEmulator({ credentials: [LOCAL_EMULATOR_CREDENTIALS, STS] });
  const live = handler();
  const dryRun = handler({ DRY_RUN: 'true' });
  const context = (requestId: string): FcContext => stsContext(requestId, { ...STS });

  async function http(
    kind: Kind,
    source: SourceName,
    request: RawHttpRequest,
    options: { fn?: FcHandler; faults?: Faults; credentials?: Delivery['credentials'] } = {},
  ) {
    if (options.credentials) for (const value of credentialValues(options.credentials)) sentCredentials.add(value);
    const fcRequestId = nextRequestId(source, kind);
    upstream.emulator.setFaults(options.faults ?? {});
    const { value, text } = await captureOutput(async () =>
      httpAnswer(await (options.fn ?? live)(fcHttpEvent(request, `envelope-${fcRequestId}`), context(fcRequestId))),
    );
    upstream.emulator.setFaults({});
    scenarios.push({
      kind,
      source,
      logSource: source,
      fcRequestId,
      status: value.status,
      answer: value.text,
      lines: outputLines(text),
      ...(options.faults ? { faults: options.faults } : {}),
    });
    allText += text;
  }

  async function invocation(kind: 'timer' | 'command', source: SourceName, event: object) {
    const fcRequestId = nextRequestId(source, kind);
    upstream.emulator.reset();
    const { value, text } = await captureOutput(async () => {
      try {
        return { status: 200, body: await live(Buffer.from(JSON.stringify(event)), context(fcRequestId)) };
      } catch (error) {
        return { status: 500, body: { thrown: String(error) } };
      }
    });
    scenarios.push({
      kind,
      source,
      logSource: kind === 'timer' ? 'timer' : source,
      fcRequestId,
      status: value.status,
      answer: JSON.stringify(value.body),
      lines: outputLines(text),
    });
    allText += text;
  }

  for (const [index, source] of SOURCE_NAMES.entries()) {
    upstream.emulator.reset();
    // Delivered, then delivered again byte for byte (the sender's retry).
    const valid = goodDelivery(source, 'es-cn-demo-activating');
    const validRequest = deliveryRequest(FN, source, valid);
    await http('valid', source, validRequest, { credentials: valid.credentials });
    await http('retried', source, validRequest, { credentials: valid.credentials });

    const wrong = goodDelivery(source, 'es-cn-demo-activating', { wrongSecret: true });
    await http('wrong-credentials', source, deliveryRequest(FN, source, wrong), { credentials: wrong.credentials });

    // A signed body the sender's parser refuses.
    const bad = KITS[source].malformed;
    const badCredentials = sign(source, bad);
    await http(
      'malformed',
      source,
      deliveryRequest(FN, source, { body: bad, contentType: MEDIA_TYPE[source], credentials: badCredentials }),
      { credentials: badCredentials },
    );

    const notAllowed = goodDelivery(source, 'es-cn-not-on-the-list');
    await http('policy', source, deliveryRequest(FN, source, notAllowed), { credentials: notAllowed.credentials });

    upstream.emulator.reset();
    const failing = goodDelivery(source, 'es-cn-demo-migrating');
    await http('upstream-failure', source, deliveryRequest(FN, source, failing), {
      credentials: failing.credentials,
      faults: FAULTS[index % FAULTS.length] as Faults,
    });

    // Refused before authentication: too large, and not the sender's media type.
    const big = goodDelivery(source, 'es-cn-demo-activating');
    const bigBody = big.body + (MEDIA_TYPE[source] === 'application/json' ? ' ' : '&').repeat(70_000);
    const bigCredentials = sign(source, bigBody);
    await http(
      'too-large',
      source,
      deliveryRequest(FN, source, { body: bigBody, contentType: MEDIA_TYPE[source], credentials: bigCredentials }),
      { credentials: bigCredentials },
    );
    const typed = goodDelivery(source, 'es-cn-demo-activating');
    await http('media-type', source, deliveryRequest(FN, source, { ...typed, contentType: 'text/plain' }), {
      credentials: typed.credentials,
    });

    const dry = goodDelivery(source, 'es-cn-demo-activating');
    await http('dry-run', source, deliveryRequest(FN, source, dry), { fn: dryRun, credentials: dry.credentials });

    if (source === 'feishu') {
      // URL verification carries the verification token in the body.
      const body = JSON.stringify({
        challenge: 'ajls384kdjx98XX',
        token: FEISHU_SECRETS.verificationTokens[1],
        type: 'url_verification',
      });
      await http(
        'challenge',
        source,
        deliveryRequest(FN, source, { body, contentType: MEDIA_TYPE.feishu, credentials: { headers: {}, query: {} } }),
      );
    }

    await invocation('timer', source, {
      triggerTime: new Date(Date.UTC(2026, 10, 25, 2, index)).toISOString(),
      triggerName: `nightly-${source}`,
      payload: JSON.stringify({ instanceIds: ['es-cn-demo-activating'], reason: 'maintenance window closes' }),
    });
    await invocation('command', source, {
      responderCommand: 1,
      function: FN,
      source,
      reason: 'handed off',
      targets: [{ instanceId: 'es-cn-demo-activating', regionId: 'cn-hangzhou', eventKey: `${source}:cmd-${index}` }],
      ...commandRequester(source, KIT_USERS[source]),
    });
  }
}, 60_000);

afterAll(() => upstream?.close());

type Line = Record<string, unknown>;
const parse = (line: string): Line | undefined => {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Line) : undefined;
  } catch {
    return undefined;
  }
};
const linesOf = (s: Scenario) => s.lines.map(parse).filter((l): l is Line => l !== undefined);
const where = (s: Scenario) => `${s.source}/${s.kind}`;
const withMessage = (s: Scenario, message: string) => linesOf(s).filter((l) => l.message === message);
/** The upstream RequestIds the function reported for a scenario's targets. */
function upstreamIds(s: Scenario): string[] {
  const body = parse(s.answer);
  const results = (body?.results ?? []) as Array<{ requestId?: string }>;
  const fromText = [...s.answer.matchAll(/request `?([0-9A-F]{8}-[0-9A-F-]{27})/g)].map((m) => m[1] as string);
  return [...results.map((r) => r.requestId).filter((id): id is string => typeof id === 'string'), ...fromText];
}

describe('Audit log: the scenarios themselves', () => {
  it('ran every scenario for every sender, and each did what it is meant to', () => {
    const outcome = (s: Scenario) => {
      switch (s.kind) {
        case 'valid':
        case 'retried':
        case 'timer':
        case 'command':
          return /applied/.test(s.answer);
        case 'wrong-credentials':
          return s.status === 401;
        case 'malformed':
          return s.status === 400 || (s.status === 200 && /nothing was done|"code":"InvalidPayload"/.test(s.answer));
        case 'too-large':
          return s.status === 413;
        case 'media-type':
          return s.status === 415;
        case 'policy':
          return /NotAllowed/.test(s.answer);
        case 'upstream-failure':
          return s.status >= 500 || /failed/.test(s.answer);
        case 'dry-run':
          return /dry-run|DRY_RUN/.test(s.answer);
        case 'challenge':
          return /ajls384kdjx98XX/.test(s.answer);
      }
    };
    const wrong = scenarios
      .filter((s) => !outcome(s))
      .map((s) => `${where(s)} → ${s.status} ${s.answer.slice(0, 160)}`);
    expect(wrong).toEqual([]);
    expect(scenarios).toHaveLength(SOURCE_NAMES.length * 11 + 1);
    // The scan below is not vacuous: the functions did log, and at DEBUG.
    expect(scenarios.reduce((n, s) => n + s.lines.length, 0)).toBeGreaterThan(scenarios.length * 2);
  });
});

describe('Audit log: structure', () => {
  it('every captured line is one JSON object', () => {
    const notJson = scenarios.flatMap((s) =>
      s.lines.filter((l) => parse(l) === undefined).map((l) => `${where(s)}: ${l.slice(0, 120)}`),
    );
    expect(notJson).toEqual([]);
  });

  it('every line carries the FC request ID of its invocation, the function and the source', () => {
    const problems: string[] = [];
    for (const s of scenarios) {
      for (const line of linesOf(s)) {
        const got = { requestId: line.requestId, function: line.function, source: line.source };
        const want = { requestId: s.fcRequestId, function: FN, source: s.logSource };
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          problems.push(`${where(s)} "${String(line.message)}": ${JSON.stringify(got)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every invocation is traceable: at least one line with its FC request ID', () => {
    const silent = scenarios.filter((s) => !linesOf(s).some((l) => l.requestId === s.fcRequestId)).map(where);
    expect(silent).toEqual([]);
  });
});

describe('Audit log: one line per decision', () => {
  it('a delivery is authenticated, received and applied, with the upstream RequestId and the latency', () => {
    const problems: string[] = [];
    for (const s of scenarios.filter((x) => x.kind === 'valid' || x.kind === 'retried')) {
      if (withMessage(s, 'authenticated').length !== 1) problems.push(`${where(s)}: no single "authenticated" line`);
      const received = withMessage(s, 'received');
      if (received.length !== 1 || typeof received[0]?.targets !== 'number') {
        problems.push(`${where(s)}: no "received" line with targets`);
      }
      const applied = withMessage(s, 'applied');
      const ids = upstreamIds(s);
      if (applied.length !== 1) problems.push(`${where(s)}: ${applied.length} "applied" lines`);
      for (const line of applied) {
        if (line.instanceId !== 'es-cn-demo-activating' || typeof line.clientToken !== 'string') {
          problems.push(`${where(s)}: "applied" without instanceId and clientToken`);
        }
        if (typeof line.latencyMs !== 'number') problems.push(`${where(s)}: "applied" without latencyMs`);
        if (ids.length === 0 || !ids.some((id) => Object.values(line).includes(id))) {
          problems.push(`${where(s)}: "applied" does not carry the upstream RequestId ${ids[0]}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('a refusal says why: credentials, size, media type, payload and policy', () => {
    const problems: string[] = [];
    const refusals: Kind[] = ['wrong-credentials', 'too-large', 'media-type', 'malformed', 'policy'];
    for (const s of scenarios.filter((x) => refusals.includes(x.kind))) {
      const refused = withMessage(s, 'refused');
      if (refused.length === 0) problems.push(`${where(s)} (answered ${s.status}): no "refused" line`);
      for (const line of refused) {
        if (typeof line.reason !== 'string' || line.reason === '')
          problems.push(`${where(s)}: "refused" without a reason`);
      }
      if (
        s.kind === 'policy' &&
        !refused.some((l) => l.instanceId === 'es-cn-not-on-the-list' && l.code === 'NotAllowed')
      ) {
        problems.push(`${where(s)}: the policy refusal names neither the instance nor NotAllowed`);
      }
      if (s.kind !== 'policy' && withMessage(s, 'applied').length > 0)
        problems.push(`${where(s)}: applied after a refusal`);
    }
    expect(problems).toEqual([]);
  });

  it('every line of a chat command, from "received" to "applied", names who asked: user ID, name and place', () => {
    const expected: Partial<Record<SourceName, Record<string, string>>> = {
      slack: { userId: SLACK_USER, userName: 'steve', placeId: 'C2147483705', placeName: 'ops-es' },
      dingtalk: {
        userId: DINGTALK_USER,
        userName: '陈海超',
        placeId: 'cidk+FkxOGVmgZ9W1/Bfs8ZRQ==',
        placeName: 'ES 值班群',
      },
      feishu: { userId: FEISHU_USER, placeId: 'oc_b4cf4d73e02ea650e86c4d2122ce1ec0' },
    };
    const problems: string[] = [];
    for (const s of scenarios.filter((x) => x.kind === 'valid' && x.source in expected)) {
      for (const message of ['received', 'called', 'applied']) {
        const lines = withMessage(s, message);
        if (lines.length === 0) problems.push(`${where(s)}: no "${message}" line`);
        for (const line of lines) {
          if (JSON.stringify(line.requestedBy) !== JSON.stringify(expected[s.source])) {
            problems.push(`${where(s)} "${message}": requestedBy ${JSON.stringify(line.requestedBy)}`);
          }
        }
      }
      if (!s.answer.includes(CHAT_USER_OF[s.source] ?? '')) {
        problems.push(`${where(s)}: the reply does not name who asked`);
      }
    }
    // Alert senders have no person behind them.
    for (const s of scenarios.filter((x) => x.kind === 'valid' && !(x.source in expected))) {
      if (linesOf(s).some((l) => 'requestedBy' in l)) problems.push(`${where(s)}: requestedBy on an alert`);
    }
    expect(problems).toEqual([]);
  });

  it('a chat command from someone not allowed is one "refused" line naming them and the variable, and no call', async () => {
    const fn = handler();
    const body = deliveryBody('slack', 'es-cn-demo-activating').replace(`user_id=${SLACK_USER}`, 'user_id=U0MALLORY1');
    const { value, text } = await captureOutput(async () =>
      httpAnswer(
        await fn(
          fcHttpEvent(
            deliveryRequest(FN, 'slack', { body, contentType: MEDIA_TYPE.slack, credentials: sign('slack', body) }),
          ),
          stsContext('fc-slack-not-allowed-1', { ...STS }),
        ),
      ),
    );
    expect(value.status).toBe(200);
    const lines = outputLines(text)
      .map(parse)
      .filter((l): l is Line => l !== undefined);
    const refused = lines.filter((l) => l.message === 'refused');
    expect(refused).toEqual([
      expect.objectContaining({
        code: 'UserNotAllowed',
        reason: 'steve (U0MALLORY1) is not in SLACK_ALLOWED_USERS',
        requestedBy: { userId: 'U0MALLORY1', userName: 'steve', placeId: 'C2147483705', placeName: 'ops-es' },
        requestId: 'fc-slack-not-allowed-1',
      }),
    ]);
    expect(lines.filter((l) => l.message === 'called')).toEqual([]);
  });

  it('an upstream failure logs each retry and the failure with its code', () => {
    const problems: string[] = [];
    const expectedCode: Record<string, string> = {
      throttle: 'Throttling.User',
      serverError: 'InternalError',
      dropResponse: 'ConnectionLost',
    };
    for (const s of scenarios.filter((x) => x.kind === 'upstream-failure')) {
      const fault = Object.keys(s.faults ?? {})[0] as string;
      const code = expectedCode[fault];
      const retrying = withMessage(s, 'retrying');
      const failed = withMessage(s, 'failed');
      if (retrying.length === 0) problems.push(`${where(s)} (${fault}): no "retrying" line`);
      for (const line of retrying) {
        if (line.code !== code || typeof line.attempt !== 'number')
          problems.push(`${where(s)}: "retrying" without code/attempt`);
      }
      if (failed.length !== 1 || failed[0]?.code !== code || typeof failed[0]?.latencyMs !== 'number') {
        problems.push(`${where(s)} (${fault}): no single "failed" line with code ${code} and latencyMs`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('DRY_RUN logs the call it did not make; timer and command invocations log what they received and did', () => {
    const problems: string[] = [];
    for (const s of scenarios.filter((x) => x.kind === 'dry-run')) {
      const dry = withMessage(s, 'dry-run');
      if (dry.length !== 1 || typeof dry[0]?.clientToken !== 'string') problems.push(`${where(s)}: no "dry-run" line`);
    }
    for (const s of scenarios.filter((x) => x.kind === 'timer' || x.kind === 'command')) {
      if (withMessage(s, 'received').length !== 1) problems.push(`${where(s)}: no "received" line`);
      if (withMessage(s, 'applied').length !== 1) problems.push(`${where(s)}: no "applied" line`);
    }
    expect(problems).toEqual([]);
  });
});

describe('Audit log: no secret in any line', () => {
  it('holds no configured secret, sent signature or token, access key secret or STS credential', () => {
    const secrets = new Map<string, string>();
    for (const secret of allConfiguredSecrets()) secrets.set(secret, 'configured sender secret');
    for (const secret of GENERIC_SECRETS.whsec) {
      secrets.set(Buffer.from(secret.slice('whsec_'.length), 'base64').toString('utf8'), 'decoded whsec key');
    }
    for (const value of sentCredentials) secrets.set(value, 'signature, sign or token sent by a scenario');
    secrets.set(LOCAL_EMULATOR_CREDENTIALS.accessKeySecret, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET');
    secrets.set(STS.accessKeySecret, 'STS accessKeySecret');
    secrets.set(STS.securityToken, 'STS securityToken');
    expect(sentCredentials.size).toBeGreaterThan(SOURCE_NAMES.length * 4);
    expect(allText.length).toBeGreaterThan(10_000);
    const leaks = [...secrets]
      .filter(([secret]) => secret.length >= 8 && allText.includes(secret))
      .map(([secret, what]) => {
        const line = allText.split('\n').find((l) => l.includes(secret)) ?? '';
        return `${what} "${secret.slice(0, 12)}…" in: ${line.slice(0, 200)}`;
      });
    expect(leaks).toEqual([]);
  });
});
