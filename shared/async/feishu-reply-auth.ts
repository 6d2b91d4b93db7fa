import { ReplyError, type ReplySender } from './reply-sender.ts';

export interface FeishuApp {
  appId: string;
  appSecret: string;
  /** The configured open API base (`https://open.feishu.cn` or `https://open.larksuite.com`). */
  openApiBase: string;
}

/**
 * The bot's tenant access token, which Feishu's message API wants as `Authorization: Bearer`:
 * fetched with the app credentials from the token API on the configured base (a URL built here,
 * never one a sender gave), and cached until shortly before it expires (Feishu issues them for
 * about two hours). The caller attaches it only to the reply URL it builds itself.
 */
export function createFeishuTenantToken(
  sender: ReplySender,
  app: FeishuApp,
  now: () => number = Date.now,
): () => Promise<string> {
  if (!app.appId || !app.appSecret) throw new TypeError('a Feishu app ID and secret are required');
  if (!/^https:\/\/[a-z0-9.-]+$/.test(app.openApiBase)) throw new TypeError('openApiBase must be https://<host>');
  const tokenUrl = `${app.openApiBase}/open-apis/auth/v3/tenant_access_token/internal`;
  let cached: { token: string; expiresAt: number } | undefined;

  return async () => {
    if (cached && cached.expiresAt > now()) return cached.token;
    const answer = (await sender.send(tokenUrl, { app_id: app.appId, app_secret: app.appSecret })) as
      | { tenant_access_token?: unknown; expire?: unknown }
      | undefined;
    const issued = answer?.tenant_access_token;
    if (typeof issued !== 'string' || issued.length === 0) {
      throw new ReplyError('ReplyFailed', 'Feishu issued no tenant access token', { retryable: true });
    }
    const seconds = typeof answer?.expire === 'number' ? answer.expire : 7200;
    cached = { token: issued, expiresAt: now() + Math.max(0, seconds - 300) * 1000 };
    return issued;
  };
}
