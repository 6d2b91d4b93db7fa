import { describe, expect, it } from 'vitest';
import { withFeishuTenantToken } from '../shared/async/feishu-reply-auth.ts';
import { ReplyError, type ReplySender } from '../shared/async/reply-sender.ts';

const REPLY = 'https://open.feishu.cn/open-apis/im/v1/messages/om_abc123/reply';
const TOKEN_URL = 'https://open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal';

/** A sender that records every post and answers the token request. */
function recording(tokenAnswer: unknown = { code: 0, tenant_access_token: 't-1', expire: 7200 }) {
  const posts: Array<{ url: string; body: unknown; headers?: Record<string, string> }> = [];
  const sender: ReplySender = {
    async send(url, body, headers) {
      posts.push({ url, body, headers });
      return url === TOKEN_URL ? tokenAnswer : { code: 0 };
    },
  };
  return { sender, posts };
}

describe('Function: withFeishuTenantToken', () => {
  it('fetches a tenant token with the app credentials and replies with it', async () => {
    const { sender, posts } = recording();
    await withFeishuTenantToken(sender, { appId: 'cli_a1', appSecret: 'app-secret' }).send(REPLY, { msg_type: 'text' });
    expect(posts).toEqual([
      { url: TOKEN_URL, body: { app_id: 'cli_a1', app_secret: 'app-secret' }, headers: undefined },
      { url: REPLY, body: { msg_type: 'text' }, headers: { authorization: 'Bearer t-1' } },
    ]);
  });

  it('reuses the token until shortly before it expires', async () => {
    let now = 0;
    const { sender, posts } = recording();
    const replier = withFeishuTenantToken(sender, { appId: 'a', appSecret: 's' }, () => now);
    await replier.send(REPLY, {});
    now = 60_000;
    await replier.send(REPLY, {});
    expect(posts.filter((p) => p.url === TOKEN_URL)).toHaveLength(1);
    now = (7200 - 299) * 1000;
    await replier.send(REPLY, {});
    expect(posts.filter((p) => p.url === TOKEN_URL)).toHaveLength(2);
  });

  it('leaves other reply URLs untouched', async () => {
    const { sender, posts } = recording();
    await withFeishuTenantToken(sender, { appId: 'a', appSecret: 's' }).send('https://hooks.slack.com/commands/x', {
      text: 'hi',
    });
    expect(posts).toEqual([{ url: 'https://hooks.slack.com/commands/x', body: { text: 'hi' }, headers: undefined }]);
  });

  it('fails with a retryable ReplyError when Feishu issues no token', async () => {
    const { sender } = recording({ code: 10003, msg: 'invalid param' });
    const error = await withFeishuTenantToken(sender, { appId: 'a', appSecret: 's' })
      .send(REPLY, {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyError);
    expect(error).toMatchObject({ code: 'ReplyFailed', retryable: true });
  });

  it('checks its options once', () => {
    expect(() => withFeishuTenantToken(recording().sender, { appId: '', appSecret: 's' })).toThrow(TypeError);
  });
});
