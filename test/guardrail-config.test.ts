import { describe, expect, it } from 'vitest';
import { parseConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { guardrailEnvVars, parseDuration, parseRate } from '../shared/guardrails/config.ts';
import { formatDuration, formatWhen } from '../shared/guardrails/messages.ts';
import { openStateStore } from '../shared/guardrails/open-store.ts';
import { createEmbeddedStore } from '../shared/state/embedded-store.ts';

/** The guardrails' section of the one configuration parse. */
const guardrailConfig = (env: Record<string, string | undefined>) => parseConfig(env).guardrails;

describe('Function: parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['7d', 604_800_000],
    [' 90s ', 90_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['10', 'is not a duration'],
    ['10min', 'is not a duration'],
    ['1.5h', 'is not a duration'],
    ['-1m', 'is not a duration'],
    ['1h30m', 'is not a duration'],
    ['0s', 'from 1s to 7d'],
    ['8d', 'from 1s to 7d'],
  ])('refuses %s', (text, message) => {
    expect(() => parseDuration(text)).toThrow(message);
  });
});

describe('Function: parseRate', () => {
  it('reads <count>/<duration>', () => {
    expect(parseRate('10/10m', 1000)).toEqual({ limit: 10, windowMs: 600_000, text: '10/10m' });
    expect(parseRate(' 3 / 30m ', 1000)).toEqual({ limit: 3, windowMs: 1_800_000, text: '3/30m' });
  });

  it.each([
    ['10', 'must be <count>/<duration>'],
    ['10/10m/1', 'must be <count>/<duration>'],
    ['x/10m', 'must be <count>/<duration>'],
    ['0/10m', 'the count must be from 1 to 1000'],
    ['1001/10m', 'the count must be from 1 to 1000'],
    ['5/10x', 'is not a duration'],
  ])('refuses %s', (text, message) => {
    expect(() => parseRate(text, 1000)).toThrow(message);
  });
});

describe('Function: parseGuardrailConfig', () => {
  it('defaults to RESUME_ONLY_OWN=true, FLEET_CHANGE_BUDGET=10/10m, FLAP_GUARD=3/30m and no store', () => {
    expect(guardrailConfig({})).toEqual({
      storeUrl: undefined,
      resumeOnlyOwn: true,
      budget: { limit: 10, windowMs: 600_000, text: '10/10m' },
      flap: { limit: 3, windowMs: 1_800_000, text: '3/30m' },
    });
  });

  it('takes an empty or blank variable as unset', () => {
    const blank = Object.fromEntries(Object.keys(guardrailEnvVars).map((name) => [name, ' ']));
    expect(guardrailConfig(blank)).toEqual(guardrailConfig({}));
  });

  it('reads every variable', () => {
    expect(
      guardrailConfig({
        STATE_STORE_URL: 'rediss://responder:pw@r-bp1example.redis.rds.aliyuncs.com:6379/1',
        RESUME_ONLY_OWN: 'no',
        FLEET_CHANGE_BUDGET: '25/1h',
        FLAP_GUARD: '5/1d',
      }),
    ).toEqual({
      storeUrl: 'rediss://responder:pw@r-bp1example.redis.rds.aliyuncs.com:6379/1',
      resumeOnlyOwn: false,
      budget: { limit: 25, windowMs: 3_600_000, text: '25/1h' },
      flap: { limit: 5, windowMs: 86_400_000, text: '5/1d' },
    });
  });

  it.each([
    ['RESUME_ONLY_OWN', 'maybe', 'RESUME_ONLY_OWN: must be one of true, false, 1, 0, yes, no'],
    ['FLEET_CHANGE_BUDGET', '10 per 10m', 'FLEET_CHANGE_BUDGET: must be <count>/<duration>'],
    ['FLEET_CHANGE_BUDGET', '10/10', 'FLEET_CHANGE_BUDGET: "10" is not a duration'],
    ['FLAP_GUARD', '3/30', 'FLAP_GUARD: "30" is not a duration'],
    ['FLAP_GUARD', '0/30m', 'FLAP_GUARD: the count must be from 1 to 1000'],
    [
      'STATE_STORE_URL',
      'http://r-bp1example:6379',
      'STATE_STORE_URL: the state store URL must start with redis:// or rediss://',
    ],
  ])('names %s when its value %s is wrong', (name, value, message) => {
    expect(() => guardrailConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => guardrailConfig({ [name]: value })).toThrow(message);
  });

  it('never echoes a bad STATE_STORE_URL, which may hold the password', () => {
    const url = 'redis://user:s3cret-pw@r-bp1example:6379/not-a-db';
    try {
      guardrailConfig({ STATE_STORE_URL: url });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('STATE_STORE_URL: the state store URL path must be a database number');
      expect((error as Error).message).not.toContain('s3cret-pw');
    }
  });

  it('names every bad variable at once', () => {
    expect(() => guardrailConfig({ FLEET_CHANGE_BUDGET: 'x', FLAP_GUARD: 'y' })).toThrow(
      /FLEET_CHANGE_BUDGET: .*; FLAP_GUARD: /,
    );
  });
});

describe('Function: formatDuration and formatWhen', () => {
  it.each([
    [0, '0s'],
    [1, '1s'],
    [59_001, '1m'],
    [250_000, '4m 10s'],
    [3_600_000, '1h'],
    [97_200_000, '1d 3h'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('gives a time in UTC to the second, and how far off it is', () => {
    expect(formatWhen(Date.UTC(2025, 0, 6, 3, 10, 0, 1), Date.UTC(2025, 0, 6, 3, 5, 50))).toBe(
      '2025-01-06T03:10:01Z (in 4m 11s)',
    );
  });
});

describe('Function: openStateStore', () => {
  it('opens the Redis store when STATE_STORE_URL is set, without connecting', async () => {
    const store = openStateStore(guardrailConfig({ STATE_STORE_URL: 'redis://127.0.0.1:1/0' }));
    expect(store?.kind).toBe('redis');
    await store?.close();
  });

  it("uses local mode's embedded store otherwise, and none on Function Compute", () => {
    const embedded = createEmbeddedStore();
    expect(openStateStore(guardrailConfig({}), { embedded })).toBe(embedded);
    expect(openStateStore(guardrailConfig({}))).toBeUndefined();
  });
});
