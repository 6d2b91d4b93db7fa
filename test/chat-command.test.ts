import { describe, expect, it } from 'vitest';
import type { ResponseBody } from '../shared/core/result.ts';
import { parseCommandText, replyText } from '../shared/sources/chat-command.ts';

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
