import { describe, expect, it } from 'vitest';
import { createChatReplier } from '../shared/async/chat-replier.ts';
import { ReplyError, type ReplySender } from '../shared/async/reply-sender.ts';
import type { ReplyTarget } from '../shared/core/target.ts';

/**
 * Issue 10, part 5: the Feishu tenant token was attached to a URL taken from a Slack response_url.
 * Each source's report now goes only to its own platform's reply shape, and the token only to the
 * Feishu reply URL built from the message ID on the configured base.
 */

type Post = { url: string; body: unknown; headers?: Record<string, string> | undefined };

function replier(options: { feishu?: boolean; token?: boolean } = { feishu: true, token: true }) {
  const posts: Post[] = [];
  let tokens = 0;
  const sender: ReplySender = {
    async send(url, body, headers) {
      posts.push({ url, body, headers });
      return undefined;
    },
  };
  const chat = createChatReplier({
    sender,
    feishu: options.feishu
      ? {
          openApiBase: 'https://open.feishu.cn',
          tenantToken: options.token
            ? async () => {
                tokens++;
                return 't-secret-token';
              }
            : undefined,
        }
      : undefined,
  });
  return { chat, posts, tokens: () => tokens };
}

const SLACK = 'https://hooks.slack.com/commands/T024BE7LD/1234567890123/AbCdEfGhIjKlMnOpQrStUvWx';
const DINGTALK = 'https://oapi.dingtalk.com/robot/sendBySession?session=0ead97e06322594b8581216d8b2c4919';
const FEISHU_MESSAGE = 'om_dc13264520392913993dd051dba21dcf';
const FEISHU_REPLY = `https://open.feishu.cn/open-apis/im/v1/messages/${FEISHU_MESSAGE}/reply`;

describe('Function: createChatReplier', () => {
  it.each([
    ['slack', { url: SLACK }, SLACK],
    ['slack', { url: 'https://hooks.slack.com/commands/1234/5678' }, 'https://hooks.slack.com/commands/1234/5678'],
    ['dingtalk', { url: DINGTALK }, DINGTALK],
  ])('posts a %s report to its own reply URL, without credentials', async (source, target, url) => {
    const { chat, posts, tokens } = replier();
    await chat.report(source, target, { text: 'done' });
    expect(posts).toEqual([{ url, body: { text: 'done' }, headers: undefined }]);
    expect(tokens()).toBe(0);
  });

  it('replies to a Feishu message at the URL it builds from the ID, the one request with the token', async () => {
    const { chat, posts } = replier();
    await chat.report('feishu', { messageId: FEISHU_MESSAGE }, { msg_type: 'text' });
    expect(posts).toEqual([
      { url: FEISHU_REPLY, body: { msg_type: 'text' }, headers: { authorization: 'Bearer t-secret-token' } },
    ]);
  });

  it('replies to a Feishu message without a token where replies are only captured (local mode)', async () => {
    const { chat, posts } = replier({ feishu: true, token: false });
    await chat.report('feishu', { messageId: FEISHU_MESSAGE }, {});
    expect(posts).toEqual([{ url: FEISHU_REPLY, body: {}, headers: undefined }]);
  });

  /** The attacks: a report of one platform's command aimed anywhere but that platform's own reply shape. */
  it.each<[string, string, ReplyTarget]>([
    ['the reported attack: a Slack response_url at Feishu’s message API', 'slack', { url: FEISHU_REPLY }],
    ['a Slack response_url on another host', 'slack', { url: 'https://evil.example/commands/T1/2/abc' }],
    ['a look-alike Slack host', 'slack', { url: 'https://hooks.slack.com.evil.example/commands/T1/2/abc' }],
    ['a Slack incoming webhook (not a response_url)', 'slack', { url: 'https://hooks.slack.com/services/T1/B2/x' }],
    ['user info before Slack’s host', 'slack', { url: 'https://u:p@hooks.slack.com/commands/T1/2/abc' }],
    ['a port on Slack’s host', 'slack', { url: 'https://hooks.slack.com:8443/commands/T1/2/abc' }],
    ['a dot segment', 'slack', { url: 'https://hooks.slack.com/commands/../api/chat.postMessage' }],
    ['percent-encoding', 'slack', { url: 'https://hooks.slack.com/commands/T1%2F..%2F/2/abc' }],
    ['a query', 'slack', { url: `${SLACK}?x=1` }],
    ['plain http', 'slack', { url: SLACK.replace('https:', 'http:') }],
    ['a Slack command naming a Feishu message', 'slack', { messageId: FEISHU_MESSAGE }],
    ['a DingTalk command to Slack', 'dingtalk', { url: SLACK }],
    [
      'a DingTalk robot webhook (not a session)',
      'dingtalk',
      { url: 'https://oapi.dingtalk.com/robot/send?access_token=x' },
    ],
    ['a DingTalk command to Feishu', 'dingtalk', { url: FEISHU_REPLY }],
    ['a Feishu command carrying a URL (even Feishu’s own)', 'feishu', { url: FEISHU_REPLY }],
    ['a Feishu command to Slack', 'feishu', { url: SLACK }],
    ['a Feishu message ID that is not one', 'feishu', { messageId: 'om_x/../../auth' }],
    ['a Feishu message ID with a query', 'feishu', { messageId: 'om_x?receive_id_type=chat_id' }],
    ['a generic command', 'generic', { url: SLACK }],
    ['an Alertmanager command', 'alertmanager', { url: DINGTALK }],
  ])('refuses %s: nothing is posted, no token is fetched', async (_, source, target) => {
    const { chat, posts, tokens } = replier();
    const error = await chat.report(source, target, { text: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyError);
    expect(error).toMatchObject({ code: 'ReplyUrlRefused', retryable: false });
    expect(posts).toEqual([]);
    expect(tokens()).toBe(0);
  });

  it('refuses a Feishu reply when no Feishu app is configured', async () => {
    const { chat, posts } = replier({ feishu: false });
    const error = await chat.report('feishu', { messageId: FEISHU_MESSAGE }, {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ReplyUrlRefused', message: /FEISHU_APP_ID/ });
    expect(posts).toEqual([]);
  });

  it('says in its refusal which host was refused, never the whole URL (a reply URL is a capability)', async () => {
    const { chat } = replier();
    const error = (await chat.report('slack', { url: `${FEISHU_REPLY}` }, {}).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('open.feishu.cn');
    expect(error.message).not.toContain(FEISHU_MESSAGE);
  });
});
