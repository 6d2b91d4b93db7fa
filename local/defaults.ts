import { emulatorCredentialsFromEnv } from '../emulator/credentials.ts';
import type { Env } from '../shared/config.ts';

/** Documented local-only secrets, so the README's commands work as written. Never use them in the cloud. */
export const LOCAL_BEARER_TOKEN = 'local-demo-token';
export const LOCAL_ACCOUNT_ID = '1234567890123456';
export const LOCAL_SERVICE_NAME = 'es-change-responder';
export const LOCAL_WEBHOOK_SECRET = `whsec_${Buffer.from('local-demo-webhook-secret-32byte').toString('base64')}`;

/**
 * The environment local mode runs the functions with: the caller's variables win, except the
 * endpoint, which always points at the embedded emulator so local mode can never touch a real
 * cluster.
 */
export function localEnv(base: Env, endpoint: string): Env {
  const env: Env = { ...base };
  env.ALIBABA_CLOUD_REGION ??= 'cn-hangzhou';
  // The functions sign with exactly the pair the emulator accepts (the caller's, else the local one).
  const pair = emulatorCredentialsFromEnv(base);
  env.ALIBABA_CLOUD_ACCESS_KEY_ID = pair.accessKeyId;
  env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = pair.accessKeySecret;
  env.ALLOWED_INSTANCES ??= 'es-cn-demo-*,ls-cn-demo-*';
  if (!env.GENERIC_BEARER_TOKENS && !env.GENERIC_WEBHOOK_SECRETS) {
    env.GENERIC_BEARER_TOKENS = LOCAL_BEARER_TOKEN;
    env.GENERIC_WEBHOOK_SECRETS = LOCAL_WEBHOOK_SECRET;
  }
  env.ELASTICSEARCH_ENDPOINT = endpoint;
  // The async hand-off goes through the real fc2 client to the emulated invoke API on this port.
  env.ASYNC_SERVICE_NAME ??= LOCAL_SERVICE_NAME;
  env.ALIBABA_CLOUD_ACCOUNT_ID ??= LOCAL_ACCOUNT_ID;
  env.ASYNC_INVOKE_ENDPOINT = endpoint;
  return env;
}
