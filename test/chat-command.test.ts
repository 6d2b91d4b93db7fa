import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResponseBody } from '../shared/core/result.ts';
import { PayloadError } from '../shared/errors.ts';
import { MAX_COMMAND_TEXT, parseCommandText } from '../shared/sources/chat-command.ts';
import { replyText } from '../shared/sources/chat-reply.ts';

describe('chat command text', () => {
  it.each<[string, string, string[], string]>([
    ['one ID and a reason', 'es-cn-abc123 rollout stuck', ['es-cn-abc123'], 'rollout stuck'],
    [
      'IDs anywhere, deduplicated',
      'stop es-cn-abc123 and ls-cn-xyz789, es-cn-abc123',
      ['es-cn-abc123', 'ls-cn-xyz789'],
      'stop and',
    ],
    ['punctuation around IDs', '(es-cn-abc123) `ls-cn-xyz789`.', ['es-cn-abc123', 'ls-cn-xyz789'], ''],
    [
      'CJK separators',
      'es-cn-abc123，es-cn-def456、ls-cn-xyz789；磁盘满',
      ['es-cn-abc123', 'es-cn-def456', 'ls-cn-xyz789'],
      '磁盘满',
    ],
    ['Feishu mentions dropped', '@_user_1 es-cn-abc123 @_all now', ['es-cn-abc123'], 'now'],
    ['no ID', 'please stop it', [], 'please stop it'],
    ['other cloud IDs are not instances', 'i-bp1abc rm-bp1xyz es-cn', [], 'i-bp1abc rm-bp1xyz es-cn'],
    ['upper case is not an ID', 'ES-CN-ABC123', [], 'ES-CN-ABC123'],
  ])('%s', (_case, text, ids, reason) => {
    expect(parseCommandText(text)).toEqual({ instanceIds: ids, reason });
  });
});

/**
 * The parser as it was (issue 10, part 6), kept as the oracle of what a command means: correct,
 * but quadratic on long runs of punctuation (its edge regex) and on many IDs (`includes`).
 */
function referenceParse(text: string) {
  const instanceIds: string[] = [];
  const rest: string[] = [];
  for (const word of text.split(/[\s,;，；、]+/u)) {
    if (!word || /^@_(?:user_\d+|all)$/.test(word)) continue;
    const candidate = word.replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
    if (/^(?:es|ls)-/.test(candidate) && /^[a-z]{2}-[a-z0-9][a-z0-9-]{2,62}$/.test(candidate)) {
      if (!instanceIds.includes(candidate)) instanceIds.push(candidate);
    } else {
      rest.push(word);
    }
  }
  return { instanceIds, reason: rest.join(' ').slice(0, 500) };
}

describe('Function: parseCommandText on hostile text', () => {
  it('refuses a text over MAX_COMMAND_TEXT characters before looking at it', () => {
    const text = `es-cn-abc123 ${'x'.repeat(MAX_COMMAND_TEXT)}`;
    expect(() => parseCommandText(text)).toThrow(PayloadError);
    expect(() => parseCommandText(text)).toThrow(`the command text is ${text.length} characters long; at most 10000`);
  });

  it.each<[string, string, number]>([
    // The old edge regex backtracked over the whole run from every position in it.
    ['one word of punctuation between two letters', `a${'-'.repeat(MAX_COMMAND_TEXT - 2)}a`, 0],
    ['an ID wrapped in punctuation', `${'('.repeat(30)}es-cn-abc123${')'.repeat(30)}`, 1],
    // The old duplicate check compared each ID with every earlier one.
    [
      'as many distinct IDs as fit',
      Array.from({ length: 833 }, (_, i) => `es-cn-${String(i).padStart(5, '0')}`)
        .join(' ')
        .slice(0, MAX_COMMAND_TEXT),
      833,
    ],
    ['one ID over and over', 'es-cn-abc123 '.repeat(MAX_COMMAND_TEXT / 13), 1],
    ['separators only', ' ,;，；、'.repeat(MAX_COMMAND_TEXT / 6), 0],
  ])('parses %s at the cap', (_case, text, ids) => {
    expect(text.length).toBeLessThanOrEqual(MAX_COMMAND_TEXT);
    const parsed = parseCommandText(text);
    expect(parsed.instanceIds).toHaveLength(ids);
    expect(parsed.reason.length).toBeLessThanOrEqual(500);
  });

  it('takes a word longer than any instance ID as reason text, never as an ID', () => {
    const long = `${'('.repeat(100)}es-cn-abc123${')'.repeat(100)}`;
    expect(parseCommandText(`${long} es-cn-def456`)).toEqual({
      instanceIds: ['es-cn-def456'],
      reason: long.slice(0, 500),
    });
  });

  it('means what the straightforward parser meant, on every short text (property)', () => {
    const pieces = fc.constantFrom(
      'es-cn-abc123',
      'ls-cn-xyz789',
      'es-cn',
      'ES-CN-ABC123',
      '@_user_1',
      '@_all',
      '(',
      ')',
      '`',
      '.',
      '-',
      ' ',
      ',',
      '，',
      '、',
      '；',
      '\n',
      '\u3000',
      'stop',
      '中断',
      'a',
      '9',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        expect(parseCommandText(text)).toEqual(referenceParse(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('chat reply text', () => {
  const body: ResponseBody = {
    function: 'interrupt-elasticsearch-task',
    operation: 'InterruptElasticsearchTask',
    source: 'slack',
    dryRun: false,
    summary: '1 applied, 1 failed',
    results: [
      { instanceId: 'es-cn-a1', clientToken: 'ies1-aaa', outcome: 'applied', requestId: 'R1' },
      {
        instanceId: 'es-cn-b2',
        clientToken: 'ies1-bbb',
        outcome: 'failed',
        code: 'InternalError',
        message: 'The request <failed> & may be retried',
        requestId: 'R2',
        retryable: true,
      },
    ],
  };

  it('formats for Slack with code spans and escaping', () => {
    expect(replyText(body, 'slack')).toBe(
      [
        'interrupt-elasticsearch-task (InterruptElasticsearchTask): 1 applied, 1 failed',
        '✅ `es-cn-a1`: applied — clientToken `ies1-aaa`; request `R1`',
        '❌ `es-cn-b2`: failed — InternalError: The request &lt;failed&gt; &amp; may be retried; clientToken `ies1-bbb`; request `R2`; a retry can help: send the command again',
      ].join('\n'),
    );
  });

  it('formats plain text for DingTalk', () => {
    expect(replyText(body, 'plain').split('\n')[2]).toBe(
      '❌ es-cn-b2: failed — InternalError: The request <failed> & may be retried; clientToken ies1-bbb; request R2; a retry can help: send the command again',
    );
  });

  it.each<[string, ResponseBody['requestedBy'], 'slack' | 'plain', string]>([
    [
      'a Slack user in a channel, names escaped',
      { userId: 'U2147483697', userName: 'steve<&>', placeId: 'C2147483705', placeName: 'ops-es' },
      'slack',
      'asked by steve&lt;&amp;&gt; (`U2147483697`) in ops-es (`C2147483705`)',
    ],
    [
      'a DingTalk user',
      { userId: 'manager8502', userName: '陈海超', placeId: 'cid1==', placeName: 'ES 值班群' },
      'plain',
      'asked by 陈海超 (manager8502) in ES 值班群 (cid1==)',
    ],
    ['a Feishu user (IDs only)', { userId: 'ou_1', placeId: 'oc_2' }, 'plain', 'asked by ou_1 in oc_2'],
    ['a sender with no ID', { userName: 'guest' }, 'plain', 'asked by guest'],
  ])('ends with who asked: %s', (_case, requestedBy, format, line) => {
    expect(
      replyText({ ...body, requestedBy }, format)
        .split('\n')
        .at(-1),
    ).toBe(line);
  });

  it('says why nothing was done, and cuts long lists', () => {
    const many: ResponseBody = {
      ...body,
      summary: 'x',
      results: Array.from({ length: 25 }, (_, i) => ({
        instanceId: `es-cn-n${i}`,
        outcome: 'refused' as const,
        code: 'TooManyTargets',
        message: 'too many',
      })),
      error: { code: 'InvalidPayload', message: 'name at least one instance' },
    };
    const lines = replyText(many, 'plain').split('\n');
    expect(lines[0]).toBe(
      '⚠️ interrupt-elasticsearch-task (InterruptElasticsearchTask): nothing was done — name at least one instance',
    );
    expect(lines).toHaveLength(22);
    expect(lines[21]).toBe('… and 5 more');
  });
});
