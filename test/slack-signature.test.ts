import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackSignature } from '../shared/auth/slack-signature.ts';

// The worked example of https://api.slack.com/authentication/verifying-requests-from-slack.
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const body = new TextEncoder().encode(DOC_BODY);
const at = Number(DOC_TIMESTAMP);

describe('Slack v0 request signing', () => {
  it('reproduces Slack’s documented example', () => {
    expect(slackSignature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)).toBe(DOC_SIGNATURE);
    expect(verifySlackSignature({ timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE }, body, [DOC_SECRET], at)).toBe(
      true,
    );
  });

  it('accepts any configured secret (rotation)', () => {
    const headers = { timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE };
    expect(verifySlackSignature(headers, body, ['new-secret', DOC_SECRET], at)).toBe(true);
  });

  it.each<[string, { timestamp: string | null; signature: string | null }, readonly string[], number, Uint8Array?]>([
    ['no secret configured', { timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE }, [], at],
    ['no timestamp', { timestamp: null, signature: DOC_SIGNATURE }, [DOC_SECRET], at],
    ['no signature', { timestamp: DOC_TIMESTAMP, signature: null }, [DOC_SECRET], at],
    ['a wrong secret', { timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE }, ['other'], at],
    ['301 s late', { timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE }, [DOC_SECRET], at + 301],
    ['301 s early', { timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE }, [DOC_SECRET], at - 301],
    ['a non-numeric timestamp', { timestamp: '1531420618.0', signature: DOC_SIGNATURE }, [DOC_SECRET], at],
    ['an upper-case signature', { timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE.toUpperCase() }, [DOC_SECRET], at],
    [
      'another body',
      { timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE },
      [DOC_SECRET],
      at,
      new TextEncoder().encode(`${DOC_BODY}&x=1`),
    ],
  ])('refuses %s', (_case, headers, secrets, now, other) => {
    expect(verifySlackSignature(headers, other ?? body, secrets, now)).toBe(false);
  });

  it('accepts the edges of the window', () => {
    const headers = { timestamp: DOC_TIMESTAMP, signature: DOC_SIGNATURE };
    expect(verifySlackSignature(headers, body, [DOC_SECRET], at + 300)).toBe(true);
    expect(verifySlackSignature(headers, body, [DOC_SECRET], at - 300)).toBe(true);
  });
});
