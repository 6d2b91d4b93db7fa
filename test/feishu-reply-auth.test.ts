import { describe, expect, it } from 'vitest';
import { createFeishuTenantToken } from '../shared/async/feishu-reply-auth.ts';
import { ReplyError, type ReplySender } from '../shared/async/reply-sender.ts';

const APP = { appId: 'cli_a1', appSecret: 'app-secret', openApiBase: 'https://open.feishu.cn' };
const TOKEN_URL = 'https://open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal';

/** A sender that records every post and answers the token request. */
function recording(tokenAnswer: unknown = { code: 0, tenant_access_token: 't-1', expire: 7200 }) {
  const posts: Array<{ url: string; body: unknown; headers?: Record<string, string> }> = [];
  const sender: ReplySender = {
    async send(url, body, headers) {
      posts.push({ url, body, headers });
      return tokenAnswer;
    },
  };
  return { sender, posts };
}

describe('Function: createFeishuTenantToken', () => {
  it('fetches a tenant token with the app credentials, from the token API on the configured base', async () => {
    const { sender, posts } = recording();
    expect(await createFeishuTenantToken(sender, APP)()).toBe('t-1');
    expect(posts).toEqual([
      { url: TOKEN_URL, body: { app_id: 'cli_a1', app_secret: 'app-secret' }, headers: undefined },
    ]);
  });

  it('asks Lark when the base is Lark’s', async () => {
    const { sender, posts } = recording();
    await createFeishuTenantToken(sender, { ...APP, openApiBase: 'https://open.larksuite.com' })();
    expect(posts[0]?.url).toBe('https://open.larksuite.com/open-apis/auth/v3/tenant_access_token/internal');
  });

  it('reuses the token until shortly before it expires', async () => {
    let now = 0;
    const { sender, posts } = recording();
    const token = createFeishuTenantToken(sender, APP, () => now);
    await token();
    now = 60_000;
    await token();
    expect(posts).toHaveLength(1);
    now = (7200 - 299) * 1000;
    await token();
    expect(posts).toHaveLength(2);
  });

  it('fails with a retryable ReplyError when Feishu issues no token', async () => {
    const { sender } = recording({ code: 10003, msg: 'invalid param' });
    const error = await createFeishuTenantToken(sender, APP)().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyError);
    expect(error).toMatchObject({ code: 'ReplyFailed', retryable: true });
  });

  it.each([
    ['no app ID', { ...APP, appId: '' }],
    ['no app secret', { ...APP, appSecret: '' }],
    ['a base that is not https://<host>', { ...APP, openApiBase: 'https://open.feishu.cn/x?' }],
    ['a plain-http base', { ...APP, openApiBase: 'http://open.feishu.cn' }],
  ])('checks its options once: %s', (_, app) => {
    expect(() => createFeishuTenantToken(recording().sender, app)).toThrow(TypeError);
  });
});
