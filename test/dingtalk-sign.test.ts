import { describe, expect, it } from 'vitest';
import {
  DINGTALK_DEFAULT_MAX_AGE_MS,
  DINGTALK_PLATFORM_MAX_AGE_MS,
  dingTalkSign,
  verifyDingTalkSign,
} from '../shared/auth/dingtalk-sign.ts';

const SECRET = 'this-is-an-app-secret';
const TIMESTAMP = '1577262236757';
/** Computed with openssl: printf '1577262236757\nthis-is-an-app-secret' | openssl dgst -sha256 -hmac … -binary | base64 */
const SIGN = '/Ev9il3mWHM5aMODtFyTn9W6BSv3RtomcLtNi11lg2A=';
const at = Number(TIMESTAMP);

describe('Function: verifyDingTalkSign', () => {
  it('matches an independent computation', () => {
    expect(dingTalkSign(SECRET, TIMESTAMP)).toBe(SIGN);
    expect(verifyDingTalkSign({ timestamp: TIMESTAMP, sign: SIGN }, [SECRET], at)).toBe(true);
  });

  it('accepts any configured secret and the edges of the five-minute default window', () => {
    const headers = { timestamp: TIMESTAMP, sign: SIGN };
    expect(DINGTALK_DEFAULT_MAX_AGE_MS).toBe(5 * 60 * 1000);
    expect(verifyDingTalkSign(headers, ['rotated', SECRET], at + DINGTALK_DEFAULT_MAX_AGE_MS)).toBe(true);
    expect(verifyDingTalkSign(headers, [SECRET], at - DINGTALK_DEFAULT_MAX_AGE_MS)).toBe(true);
  });

  it("takes a wider window only when asked, up to DingTalk's own hour", () => {
    const headers = { timestamp: TIMESTAMP, sign: SIGN };
    const fiftyMinutesLater = at + 50 * 60 * 1000;
    expect(verifyDingTalkSign(headers, [SECRET], fiftyMinutesLater)).toBe(false);
    expect(verifyDingTalkSign(headers, [SECRET], fiftyMinutesLater, DINGTALK_PLATFORM_MAX_AGE_MS)).toBe(true);
    expect(verifyDingTalkSign(headers, [SECRET], at + 1001, 1000)).toBe(false);
  });

  it.each([0, -1, 1.5, DINGTALK_PLATFORM_MAX_AGE_MS + 1, Number.NaN])(
    'throws on a window of %s ms (a programmer error, not a mismatch)',
    (maxAgeMs) => {
      expect(() => verifyDingTalkSign({ timestamp: TIMESTAMP, sign: SIGN }, [SECRET], at, maxAgeMs)).toThrow(TypeError);
    },
  );

  it.each<[string, { timestamp: string | null; sign: string | null }, readonly string[], number]>([
    ['no secret configured', { timestamp: TIMESTAMP, sign: SIGN }, [], at],
    ['no timestamp', { timestamp: null, sign: SIGN }, [SECRET], at],
    ['no sign', { timestamp: TIMESTAMP, sign: null }, [SECRET], at],
    ['a wrong secret', { timestamp: TIMESTAMP, sign: SIGN }, ['other'], at],
    ['stale', { timestamp: TIMESTAMP, sign: SIGN }, [SECRET], at + DINGTALK_DEFAULT_MAX_AGE_MS + 1],
    ['from the future', { timestamp: TIMESTAMP, sign: SIGN }, [SECRET], at - DINGTALK_DEFAULT_MAX_AGE_MS - 1],
    [
      "59 minutes old (inside DingTalk's own hour)",
      { timestamp: TIMESTAMP, sign: SIGN },
      [SECRET],
      at + 59 * 60 * 1000,
    ],
    ['another timestamp', { timestamp: String(at + 1), sign: SIGN }, [SECRET], at],
    ['a URL-encoded sign', { timestamp: TIMESTAMP, sign: encodeURIComponent(SIGN) }, [SECRET], at],
    ['a negative timestamp', { timestamp: `-${TIMESTAMP}`, sign: SIGN }, [SECRET], at],
  ])('refuses %s', (_case, headers, secrets, now) => {
    expect(verifyDingTalkSign(headers, secrets, now)).toBe(false);
  });
});
