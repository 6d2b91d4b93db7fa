import { type AuthResult, rejected } from '../../auth/auth-result.ts';
import { checkBearer } from '../../auth/bearer.ts';
import { checkStandardWebhook } from '../../auth/standard-webhooks.ts';
import type { SourceEvent } from '../../core/target.ts';
import { PayloadError } from '../../errors.ts';
import { genericPayloadSchema } from '../generic-payload.ts';
import { bodyText, EVENT_KEY_PATTERN, parseJson, validate } from '../payload.ts';
import { type InboundRequest, type SourceHandlers, verdictOf } from '../source.ts';
import type { GenericSettings } from './index.ts';

/**
 * Generic signed webhooks: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`, several `whsec_` secrets) or `Authorization: Bearer`.
 * Event key: `webhook-id`, else `Idempotency-Key`, else the payload's `eventId`. An optional
 * `state` (firing/resolved) makes each target an alert in that state, judged by the policy as
 * the alert senders' are.
 */
export function createGenericSource(settings: GenericSettings): SourceHandlers<InboundRequest> {
  const { webhookKeys: keys, bearerTokens: tokens } = settings;

  function check(request: InboundRequest): AuthResult {
    const signature = request.headers.get('webhook-signature');
    if (signature !== null) {
      if (keys.length === 0) return rejected('webhook-signature sent, but GENERIC_WEBHOOK_SECRETS is not set');
      return checkStandardWebhook(
        {
          id: request.headers.get('webhook-id'),
          timestamp: request.headers.get('webhook-timestamp'),
          signature,
        },
        request.body,
        keys,
        Math.floor(request.receivedAt.getTime() / 1000),
      );
    }
    if (tokens.length === 0) {
      return rejected('no webhook-signature header, and GENERIC_BEARER_TOKENS is not set for bearer tokens');
    }
    return checkBearer(request.headers.get('authorization'), tokens);
  }

  return {
    verify: (request) => verdictOf(check(request), request),
    parse(request): SourceEvent {
      const payload = validate(genericPayloadSchema(), parseJson(bodyText(request.body)), 'generic payload');
      const key =
        request.headers.get('webhook-id') ?? request.headers.get('idempotency-key') ?? payload.eventId ?? undefined;
      if (key === undefined) {
        throw new PayloadError(
          'an event key is required: send a webhook-id or Idempotency-Key header, or eventId in the body',
        );
      }
      if (!EVENT_KEY_PATTERN.test(key)) {
        throw new PayloadError('the event key must be 1 to 256 printable ASCII characters');
      }
      const eventKey = `generic:${key}`;
      return {
        reason: payload.reason,
        items: payload.instanceIds.map((instanceId) => ({
          instanceId,
          regionId: payload.regionId,
          eventKey,
          alertState: payload.state,
        })),
      };
    },
  };
}
