import { ReplyError, type ReplySender } from './reply-sender.ts';

export interface FeishuApp {
  appId: string;
  appSecret: string;
}

/** A reply into a Feishu/Lark chat goes through the message API, which wants a tenant access token. */
const isMessageApi = (url: URL) =>
  (url.hostname === 'open.feishu.cn' || url.hostname === 'open.larksuite.com') &&
  url.pathname.startsWith('/open-apis/im/');

/**
 * Wraps a reply sender so that posts to Feishu's message API carry `Authorization: Bearer
 * <tenant_access_token>`, fetched with the bot's app credentials and cached until shortly before
 * it expires (Feishu issues them for about two hours). Other URLs pass through untouched.
 */
export function withFeishuTenantToken(sender: ReplySender, app: FeishuApp, now: () => number = Date.now): ReplySender {
  if (!app.appId || !app.appSecret) throw new TypeError('a Feishu app ID and secret are required');
  let cached: { origin: string; token: string; expiresAt: number } | undefined;

  async function token(origin: string): Promise<string> {
    if (cached && cached.origin === origin && cached.expiresAt > now()) return cached.token;
    const answer = (await sender.send(`${origin}/open-apis/auth/v3/tenant_access_token/internal`, {
      app_id: app.appId,
      app_secret: app.appSecret,
    })) as { tenant_access_token?: unknown; expire?: unknown } | undefined;
    const issued = answer?.tenant_access_token;
    if (typeof issued !== 'string' || issued.length === 0) {
      throw new ReplyError('ReplyFailed', 'Feishu issued no tenant access token', { retryable: true });
    }
    const seconds = typeof answer?.expire === 'number' ? answer.expire : 7200;
    cached = { origin, token: issued, expiresAt: now() + Math.max(0, seconds - 300) * 1000 };
    return issued;
  }

  return {
    async send(url, body, headers) {
      const target = new URL(url);
      if (!isMessageApi(target)) return sender.send(url, body, headers);
      return sender.send(url, body, { ...headers, authorization: `Bearer ${await token(target.origin)}` });
    },
  };
}
