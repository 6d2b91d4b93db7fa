import type { FunctionName } from '../actions.ts';
import type { AsyncInvokeConfig, ResponderConfig } from '../config.ts';
import { type ChatReplier, createChatReplier } from './chat-replier.ts';
import { createFc2Invoker } from './fc2-invoker.ts';
import { createFc3Invoker } from './fc3-invoker.ts';
import { createFeishuTenantToken } from './feishu-reply-auth.ts';
import { createHttpsReplySender, type ReplyRequestFn } from './https-reply-sender.ts';
import { type AsyncInvoker, InvokeError } from './invoker.ts';
import type { ReplySender } from './reply-sender.ts';

/** The hand-off and the chat reports as a deployment's configuration sets them up, once per function. */

/**
 * The hand-off's invoker for this deployment, built once per function: FC 3.0's own API by
 * default (the function invokes itself by its deployed name), `@alicloud/fc2` for FC 2.0
 * services. It is built on first use, so coordinates FC sets itself (FC_ACCOUNT_ID), which the
 * configuration does not check, fail the hand-offs that need them, never the cold start.
 */
export function createDeploymentInvoker(invoke: AsyncInvokeConfig, name: FunctionName): AsyncInvoker {
  const { accountId, region, qualifier, endpoint, timeoutMs } = invoke;
  const build = (): AsyncInvoker =>
    invoke.api === 'fc2'
      ? createFc2Invoker({
          accountId,
          region,
          serviceName: invoke.serviceName,
          qualifier,
          endpoint,
          timeoutMs,
          functionName: name,
        })
      : createFc3Invoker({
          accountId,
          region,
          functionName: invoke.functionName ?? name,
          qualifier,
          endpoint,
          timeoutMs,
        });
  let built: AsyncInvoker | undefined;
  return {
    async invoke(event, invocationId, credentials) {
      try {
        built ??= build();
      } catch (error) {
        // An invoker that cannot be built (FC_ACCOUNT_ID or ASYNC_QUALIFIER malformed) is a refusal
        // the sender reads per target, not a bare 500: the port rejects with InvokeError only.
        throw new InvokeError('ClientError', `the hand-off cannot be configured: ${(error as Error).message}`, {
          retryable: false,
          cause: error,
        });
      }
      return built.invoke(event, invocationId, credentials);
    },
  };
}

/**
 * Chat reports, each only where its source may report: over HTTPS, a Feishu reply with the bot's
 * tenant token on the URL built from the message ID. Through `capture` (local mode) nothing is
 * authenticated: no token is fetched, so the app secret never reaches what captures the replies.
 */
export function createDeploymentReplier(
  config: Pick<ResponderConfig, 'sources' | 'upstreamTimeoutMs'>,
  capture: ReplySender | undefined,
  request: ReplyRequestFn | undefined,
): ChatReplier {
  // Built on the first report: reading Feishu's settings builds its section of the configuration,
  // which a request of another sender never needs (issue 13).
  const build = (): ChatReplier => {
    const app = config.sources.feishu.app;
    if (capture) return createChatReplier({ sender: capture, feishu: app && { openApiBase: app.openApiBase } });
    const https = createHttpsReplySender({ timeoutMs: config.upstreamTimeoutMs, request });
    return createChatReplier({
      sender: https,
      feishu: app && { openApiBase: app.openApiBase, tenantToken: createFeishuTenantToken(https, app) },
    });
  };
  let built: ChatReplier | undefined;
  return {
    report(source, target, body) {
      built ??= build();
      return built.report(source, target, body);
    },
  };
}
