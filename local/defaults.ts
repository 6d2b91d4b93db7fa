import { emulatorCredentialsFromEnv } from '../emulator/credentials.ts';
import type { Env } from '../shared/config.ts';

/** Documented local-only secrets, so the README's commands work as written. Never use them in the cloud. */
export const LOCAL_BEARER_TOKEN = 'local-demo-token';
export const LOCAL_ACCOUNT_ID = '1234567890123456';
/** The FC 2.0 service the emulated 2016-08-15 API knows when ASYNC_SERVICE_NAME names none. */
export const LOCAL_SERVICE_NAME = 'es-change-responder';
export const LOCAL_WEBHOOK_SECRET = `whsec_${Buffer.from('local-demo-webhook-secret-32byte').toString('base64')}`;
/**
 * The chat users local mode lets act: the sample senders of Slack's, DingTalk's and Feishu's own
 * documentation (and of test/fixtures), so a sample payload signed locally is a demo user's command.
 */
export const LOCAL_CHAT_USERS = {
  SLACK_ALLOWED_USERS: 'U2147483697',
  DINGTALK_ALLOWED_USERS: 'manager8502',
  FEISHU_ALLOWED_USERS: 'ou_ec81f38d6e7fdce6132f4605f7a37319',
} as const;

/**
 * The environment local mode runs the functions with: the caller's variables win. There is no
 * ELASTICSEARCH_ENDPOINT: the functions sign for the regional endpoint as in the cloud, and local
 * mode's transport delivers every call to the embedded emulator (see emulator-transport.ts), so
 * local mode can never touch a real cluster.
 */
export function localEnv(base: Env, endpoint: string): Env {
  // An empty variable is unset here as in the configuration, so it takes the local default.
  const env: Env = Object.fromEntries(Object.entries(base).filter(([, value]) => value?.trim()));
  env.ALIBABA_CLOUD_REGION ??= 'cn-hangzhou';
  // The functions sign with exactly the pair the emulator accepts (the caller's, else the local one).
  const pair = emulatorCredentialsFromEnv(base);
  env.ALIBABA_CLOUD_ACCESS_KEY_ID = pair.accessKeyId;
  env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = pair.accessKeySecret;
  env.ALLOWED_INSTANCES ??= 'es-cn-demo-*,ls-cn-demo-*';
  // Each on its own: setting a whsec_ secret to try a signer keeps the README's bearer curl working.
  // An empty variable is unset.
  env.GENERIC_BEARER_TOKENS ??= LOCAL_BEARER_TOKEN;
  env.GENERIC_WEBHOOK_SECRETS ??= LOCAL_WEBHOOK_SECRET;
  delete env.ELASTICSEARCH_ENDPOINT;
  // Chat commands act only for allowed people; locally, the demo users.
  for (const [name, users] of Object.entries(LOCAL_CHAT_USERS)) env[name] ??= users;
  // The async hand-off goes to the emulated FC invoke API on this port: FC 3.0's API as deployed
  // functions use it, or FC 2.0's through @alicloud/fc2 when ASYNC_SERVICE_NAME is set.
  env.ALIBABA_CLOUD_ACCOUNT_ID ??= LOCAL_ACCOUNT_ID;
  env.ASYNC_INVOKE_ENDPOINT = endpoint;
  return env;
}
