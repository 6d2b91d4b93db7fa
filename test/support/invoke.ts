import { fromFcHttpResult, localContext, toFcHttpEvent } from '../../local/fc-invoke.ts';
import { signStandardWebhook, standardWebhookKey } from '../../shared/auth/standard-webhooks.ts';
import type { FcHandler } from '../../shared/fc/adapter.ts';
import type { FcContext } from '../../shared/fc/events.ts';

export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from('test-webhook-secret-0123456789ab').toString('base64')}`;
export const ROTATED_WEBHOOK_SECRET = `whsec_${Buffer.from('rotated-webhook-secret-987654321').toString('base64')}`;
export const TEST_BEARER = 'test-bearer-token-7f3a';

/** How the FC envelope carries a request: its source address (`null`: none at all), a base64 body. */
export interface EnvelopeOptions {
  sourceIp?: string | null;
  base64?: boolean;
}

/** Invokes an FC handler with a real HTTP-trigger envelope built from `request`. */
export async function invokeHttp(
  handler: FcHandler,
  request: Request,
  context: FcContext = localContext('test'),
  envelope: EnvelopeOptions = {},
): Promise<Response> {
  let event = await toFcHttpEvent(request, { sourceIp: envelope.sourceIp ?? undefined, base64: envelope.base64 });
  if (envelope.sourceIp === null) {
    const parsed = JSON.parse(event.toString('utf8'));
    delete parsed.requestContext.http.sourceIp;
    event = Buffer.from(JSON.stringify(parsed));
  }
  return fromFcHttpResult(await handler(event, context));
}

/** Headers of a Standard Webhooks delivery, signed at run time. */
export function standardWebhookHeaders(
  body: string,
  options: { id?: string; secret?: string; timestamp?: number } = {},
): Record<string, string> {
  const id = options.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(
      standardWebhookKey(options.secret ?? TEST_WEBHOOK_SECRET),
      id,
      timestamp,
      body,
    ),
  };
}

export function genericRequest(
  functionName: string,
  body: string,
  headers: Record<string, string>,
  source = 'generic',
): Request {
  return new Request(`https://fc.example.test/${functionName}/${source}`, { method: 'POST', headers, body });
}
