import * as z from 'zod/mini';
import { standardWebhookKey } from '../../auth/standard-webhooks.ts';
import { envVar, list, listSchema } from '../../env-schemas.ts';
import { defineSource } from '../source.ts';

/** `whsec_…` secrets, decoded once: a malformed one is a configuration error naming the variable. */
const whsecList = envVar<Buffer[]>([], () =>
  z.pipe(
    listSchema(),
    z.transform((secrets: string[], ctx) => {
      try {
        return secrets.map(standardWebhookKey);
      } catch (error) {
        ctx.issues.push({ code: 'custom', message: (error as Error).message, input: secrets });
        return z.NEVER;
      }
    }),
  ),
);

export interface GenericSettings {
  /** GENERIC_WEBHOOK_SECRETS, decoded. */
  readonly webhookKeys: readonly Buffer[];
  readonly bearerTokens: readonly string[];
}

/** Generic signed webhooks (Standard Webhooks or bearer), SLS alerts among them: see generic.ts. */
export const generic = defineSource({
  name: 'generic',
  mediaTypes: ['application/json'],
  variables: { GENERIC_WEBHOOK_SECRETS: whsecList, GENERIC_BEARER_TOKENS: list },
  settings: (v): GenericSettings => ({ webhookKeys: v.GENERIC_WEBHOOK_SECRETS, bearerTokens: v.GENERIC_BEARER_TOKENS }),
  secretVariables: ['GENERIC_WEBHOOK_SECRETS', 'GENERIC_BEARER_TOKENS'],
  enabled: (s) => s.webhookKeys.length > 0 || s.bearerTokens.length > 0,
  load: async () => (await import('./generic.ts')).createGenericSource,
});
