import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { basicPassword, bearerToken, verifyBearer } from '../shared/auth/bearer.ts';
import { matchesAny, safeEqual } from '../shared/auth/constant-time.ts';
import { signStandardWebhook, standardWebhookKey, verifyStandardWebhook } from '../shared/auth/standard-webhooks.ts';
import { ROTATED_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET } from './support/invoke.ts';

const body = '{"instanceIds":["es-cn-n6w1o1x0w001c"],"eventId":"e-1"}';
const raw = Buffer.from(body);
const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const now = 1_795_588_871;
const keys = [standardWebhookKey(TEST_WEBHOOK_SECRET)];

/** Headers signed by the reference implementation, the `standardwebhooks` package. */
function referenceHeaders(secret = TEST_WEBHOOK_SECRET, timestamp = now) {
  const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
  return { id, timestamp: String(timestamp), signature };
}

describe('Function: verifyStandardWebhook', () => {
  it('accepts a delivery signed by the reference implementation', () => {
    expect(verifyStandardWebhook(referenceHeaders(), raw, keys, now)).toBe(true);
  });

  it('produces the signature the reference implementation produces', () => {
    expect(signStandardWebhook(keys[0] as Buffer, id, now, body)).toBe(referenceHeaders().signature);
  });

  it('accepts any of several secrets (rotation) and any of several signatures', () => {
    const rotated = referenceHeaders(ROTATED_WEBHOOK_SECRET);
    const both = [standardWebhookKey(ROTATED_WEBHOOK_SECRET), ...keys];
    expect(verifyStandardWebhook(rotated, raw, both, now)).toBe(true);
    const multi = { ...referenceHeaders(), signature: `v1a,ignored v1,AAAA ${referenceHeaders().signature}` };
    expect(verifyStandardWebhook(multi, raw, keys, now)).toBe(true);
  });

  it.each([
    ['missing id', { id: null }],
    ['missing timestamp', { timestamp: null }],
    ['missing signature', { signature: null }],
    ['non-numeric timestamp', { timestamp: '17e8' }],
    // The signature made for `now`, sent with the same number written with a leading zero.
    ['a rewritten timestamp (leading zero)', { timestamp: `0${now}` }],
    ['other id', { id: 'msg_other' }],
    ['only other versions', { signature: 'v2,abc v1a,def' }],
  ])('refuses %s', (_case, change) => {
    expect(verifyStandardWebhook({ ...referenceHeaders(), ...change }, raw, keys, now)).toBe(false);
  });

  it.each([
    ['301 s old', now - 301, false],
    ['301 s in the future', now + 301, false],
    ['300 s old', now - 300, true],
    ['299 s in the future', now + 299, true],
  ])('with a timestamp %s: %s', (_case, timestamp, accepted) => {
    expect(verifyStandardWebhook(referenceHeaders(TEST_WEBHOOK_SECRET, timestamp), raw, keys, now)).toBe(accepted);
  });

  it('refuses an altered body, a wrong secret, and no secret at all', () => {
    expect(verifyStandardWebhook(referenceHeaders(), Buffer.from(`${body} `), keys, now)).toBe(false);
    expect(verifyStandardWebhook(referenceHeaders(ROTATED_WEBHOOK_SECRET), raw, keys, now)).toBe(false);
    expect(verifyStandardWebhook(referenceHeaders(), raw, [], now)).toBe(false);
  });

  it('throws on a malformed secret: a programmer or configuration error, not a mismatch', () => {
    expect(() => standardWebhookKey('whsec_not base64!')).toThrow(TypeError);
    expect(() => standardWebhookKey('whsec_c2hvcnQ=')).toThrow(/16 bytes/);
  });
});

describe('Function: verifyBearer', () => {
  it.each([
    ['Bearer t-1', true],
    ['bearer t-2', true],
    ['Bearer  t-1 ', true],
    ['Bearer t-3', false],
    ['Bearer', false],
    ['Basic dTp0LTE=', false],
    ['t-1', false],
    ['', false],
  ])('%j → %s', (header, ok) => {
    expect(verifyBearer(header, ['t-1', 't-2'])).toBe(ok);
  });

  it('never matches with no token configured', () => {
    expect(verifyBearer('Bearer ', [])).toBe(false);
    expect(verifyBearer(null, [])).toBe(false);
  });

  it('reads the token and the basic-auth password', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(basicPassword(`Basic ${Buffer.from('alertmanager:p:w').toString('base64')}`)).toBe('p:w');
    expect(basicPassword('Basic !!')).toBeUndefined();
  });
});

describe('Function: safeEqual', () => {
  it('compares values of any length', () => {
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
    expect(matchesAny('x', ['y', 'x'])).toBe(true);
    expect(matchesAny('x', [])).toBe(false);
  });
});
