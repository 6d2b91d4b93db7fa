import * as z from 'zod/mini';
import type { Credentials } from './core/invocation.ts';
import type { ChatAccessConfig, PolicySettings } from './core/policy.ts';
import { REGION_PATTERN } from './core/target.ts';
import {
  bool,
  type EnvValues,
  type EnvVar,
  envVar,
  int,
  listOr,
  optionalList,
  optionalListSchema,
  optionalString,
  optionalVar,
  parseEnvVars,
  trimmed,
  trimmedOrUndefined,
} from './env-schemas.ts';
import { ConfigError } from './errors.ts';
import { type GuardrailConfig, guardrailEnvVars, toGuardrailConfig } from './guardrails/config.ts';
import { CHAT_SOURCE_NAMES, SOURCE_NAMES, SOURCES, type SourceName, type SourceSettings } from './sources/registry.ts';
import './zod-locale.ts';

/**
 * The whole configuration, read from the environment once per process (cold start) and
 * validated with zod: each sender's own section (its secrets and options, see sources/registry.ts)
 * and the variables below. Defaults are documented in the README; a variable with a bad value
 * makes every request fail closed with a 500 that names the variable. An empty or blank
 * variable is unset (see `presentVariables`), so no schema ever sees one.
 *
 * Over 200 lines on purpose: the schema of the variables, the typed result and the one parse are
 * read side by side whenever a variable is added; what each sender reads is in its own definition.
 */

/** Request body limit unless MAX_BODY_BYTES says otherwise. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

const region = optionalVar(() =>
  z
    .pipe(z.optional(z.string()), z.transform(trimmedOrUndefined))
    .check(
      z.refine((value) => value === undefined || REGION_PATTERN.test(value), 'must be a region ID like cn-hangzhou'),
    ),
);

/** ASYNC_SOURCES when unset: the chat senders (sources/registry.ts), whose platforms wait 3 s at most. */
const DEFAULT_ASYNC_SOURCES: SourceName[] = SOURCE_NAMES.filter((name) => CHAT_SOURCE_NAMES.has(name));

/**
 * The account that owns the functions: ALIBABA_CLOUD_ACCOUNT_ID, or FC's FC_ACCOUNT_ID, checked the
 * same way (one schema, built when either is set).
 */
const accountIdVar = optionalVar(() =>
  z.optional(z.string().check(z.regex(/^\d{6,20}$/, 'must be the numeric account ID'))),
);

/**
 * The variables of the policy, the API client and the hand-off: everything but the senders' own
 * sections. Each is an `EnvVar` (env-schemas.ts): its value when unset, and its schema, built only
 * when the variable is set.
 */
const ENV_VARS = {
  SLACK_COMMANDS: optionalVar(() =>
    optionalListSchema().check(
      z.refine(
        (items) => items === undefined || items.every((item) => /^\/[^\s/]{1,31}$/.test(item)),
        'must be slash commands such as /es-interrupt',
      ),
    ),
  ),
  SLACK_ALLOWED_USERS: optionalList,
  SLACK_ALLOWED_CHANNELS: optionalList,
  DINGTALK_ALLOWED_USERS: optionalList,
  DINGTALK_ALLOWED_CONVERSATIONS: optionalList,
  FEISHU_ALLOWED_USERS: optionalList,
  FEISHU_ALLOWED_CHATS: optionalList,
  // Unset or empty means "nothing is allowed", never "everything is".
  ALLOWED_INSTANCES: optionalList,
  MAX_TARGETS_PER_EVENT: int(5, 1, 1000),
  DRY_RUN: bool(false),
  ALIBABA_CLOUD_REGION: region,
  FC_REGION: region,
  ELASTICSEARCH_ENDPOINT: optionalVar(() =>
    z
      .pipe(z.optional(z.string()), z.transform(trimmedOrUndefined))
      .check(
        z.refine(
          (value) => value === undefined || /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?\/?$/.test(value),
          'must be a host name, host:port or http(s)://host[:port]',
        ),
      ),
  ),
  ALIBABA_CLOUD_ACCESS_KEY_ID: optionalString,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: optionalString,
  ALIBABA_CLOUD_SECURITY_TOKEN: optionalString,
  RESUME_ON: envVar<'resolved' | 'firing'>('resolved', () =>
    z._default(z.optional(z.enum(['resolved', 'firing'])), 'resolved'),
  ),
  ALERT_INSTANCE_LABELS: listOr(['instanceId', 'instance_id', 'es_instance_id']),
  ALERT_REGION_LABELS: listOr(['regionId', 'region']),
  ASYNC_SOURCES: envVar<SourceName[]>(DEFAULT_ASYNC_SOURCES, () =>
    z.pipe(
      z.optional(z.string()),
      z.transform((value: string | undefined, ctx) => {
        // An empty variable is unset (the default list); `none` hands off no source.
        if (value?.trim().toLowerCase() === 'none') return [] as SourceName[];
        const items =
          value === undefined
            ? DEFAULT_ASYNC_SOURCES
            : value
                .split(',')
                .map((item) => item.trim())
                .filter(Boolean);
        const unknown = items.filter((item) => !(SOURCE_NAMES as readonly string[]).includes(item));
        if (unknown.length > 0) {
          ctx.issues.push({ code: 'custom', message: `unknown source(s): ${unknown.join(', ')}`, input: value });
          return z.NEVER;
        }
        return items as SourceName[];
      }),
    ),
  ),
  ASYNC_SERVICE_NAME: trimmed,
  ASYNC_QUALIFIER: trimmed,
  ASYNC_INVOKE_ENDPOINT: trimmed,
  ASYNC_INVOKE_TIMEOUT_MS: int(1500, 100, 60_000),
  ALIBABA_CLOUD_ACCOUNT_ID: accountIdVar,
  // Set by FC; checked as the one above: the hand-off's endpoint and CloudMonitor's callbacks are built on it.
  FC_ACCOUNT_ID: accountIdVar,
  // Set by FC 3.0 for every function (with FC_ACCOUNT_ID and FC_REGION): the hand-off invokes this name.
  FC_FUNCTION_NAME: trimmed,
  MAX_BODY_BYTES: int(DEFAULT_MAX_BODY_BYTES, 1024, 32 * 1024 * 1024),
  UPSTREAM_TIMEOUT_MS: int(2000, 100, 60_000),
  RETRY_DEADLINE_MS: int(3500, 100, 600_000),
  COMMAND_DEADLINE_MS: int(20_000, 100, 600_000),
  FAN_OUT_CONCURRENCY: int(16, 1, 64),
  // The guardrails across events (their own section: STATE_STORE_URL, RESUME_ONLY_OWN, FLEET_CHANGE_BUDGET, FLAP_GUARD).
  ...guardrailEnvVars,
};

type CentralEnv = EnvValues<typeof ENV_VARS>;

/** Every variable the configuration reads (s.yaml is checked against this list). */
export const CONFIG_ENV_VARS: readonly string[] = [
  ...SOURCES.flatMap((source) => Object.keys(source.variables)),
  ...Object.keys(ENV_VARS),
];

export interface ResponderConfig {
  /** Each sender's settings (its secrets and options), under its name. */
  readonly sources: SourceSettings;
  /**
   * The account that owns the functions (ALIBABA_CLOUD_ACCOUNT_ID, else FC's FC_ACCOUNT_ID), when
   * known: CloudMonitor callbacks of another account are refused.
   */
  readonly accountId: string | undefined;
  /** Who may act from chat, per platform: IDs or `*`; `users` undefined refuses every chat command. */
  readonly chat: ChatAccessConfig;
  /** What the policy checks (see core/policy.ts), and DRY_RUN. */
  readonly policy: PolicySettings & { readonly dryRun: boolean };
  /** Alert label names that carry the instance ID, and the region, in order of preference. */
  readonly alertLabels: { readonly instance: readonly string[]; readonly region: readonly string[] };
  /** Default region of targets that name none: ALIBABA_CLOUD_REGION, else FC_REGION. */
  readonly region: string | undefined;
  /** Override of `elasticsearch.<region>.aliyuncs.com`. */
  readonly endpoint: string | undefined;
  /** Credentials from the environment, used when the FC context carries none. */
  readonly credentials: Credentials | undefined;
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  /** Time an HTTP delivery may spend on calls and retries, from its arrival (CloudMonitor waits 5 s). */
  readonly retryDeadlineMs: number;
  /** The same for timer and internal command invocations, which no sender waits for. */
  readonly commandDeadlineMs: number;
  readonly fanOutConcurrency: number;
  /** The guardrails across events and their store (shared/guardrails/config.ts). */
  readonly guardrails: GuardrailConfig;
  /**
   * The async hand-off: sources whose work is handed to an asynchronous invocation of the same
   * function. `invoke` says through which API: `fc3` (FC 3.0, API 2023-03-30; the default, from
   * FC's own environment) or `fc2` (an FC 2.0 service, when ASYNC_SERVICE_NAME is set). It is
   * undefined when the account or region is unknown (not on FC): then every source runs synchronously.
   */
  readonly async: {
    readonly sources: readonly SourceName[];
    readonly invoke: AsyncInvokeConfig | undefined;
  };
}

interface AsyncInvokeCommon {
  readonly accountId: string;
  readonly region: string;
  readonly qualifier: string | undefined;
  readonly endpoint: string | undefined;
  readonly timeoutMs: number;
}

export type AsyncInvokeConfig =
  | (AsyncInvokeCommon & {
      readonly api: 'fc3';
      /** FC_FUNCTION_NAME; when unset, the function's own name. */
      readonly functionName: string | undefined;
    })
  | (AsyncInvokeCommon & { readonly api: 'fc2'; readonly serviceName: string });

export type Env = Record<string, string | undefined>;

function asyncCoordinates(e: CentralEnv, accountId: string | undefined): AsyncInvokeConfig | undefined {
  const common = {
    qualifier: e.ASYNC_QUALIFIER,
    endpoint: e.ASYNC_INVOKE_ENDPOINT,
    timeoutMs: e.ASYNC_INVOKE_TIMEOUT_MS,
  };
  if (e.ASYNC_SERVICE_NAME) {
    // FC 2.0 services: as before FC 3.0 existed.
    const region = e.ALIBABA_CLOUD_REGION ?? e.FC_REGION;
    if (!accountId || !region) return undefined;
    return { api: 'fc2', accountId, region, serviceName: e.ASYNC_SERVICE_NAME, ...common };
  }
  // FC 3.0: the function invokes itself in its own region (FC_REGION), whatever region its targets are in.
  const region = e.FC_REGION ?? e.ALIBABA_CLOUD_REGION;
  if (!accountId || !region) return undefined;
  return { api: 'fc3', accountId, region, functionName: e.FC_FUNCTION_NAME, ...common };
}

/**
 * The variables the configuration reads that have a value. s.yaml passes every variable, `''`
 * where the deploying shell has none, so an empty (or blank) value must mean "unset" for every
 * variable alike: here, once, rather than in each field's schema.
 */
export function presentVariables(env: Env): Env {
  const present: Env = {};
  for (const name of CONFIG_ENV_VARS) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') present[name] = value;
  }
  return present;
}

/** `GRAFANA_HMAC_SECRETS: …; MAX_TARGETS_PER_EVENT: …`: every bad variable, by name, never its value. */
const describe = (issues: readonly z.core.$ZodIssue[]) =>
  issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');

export function parseConfig(env: Env): ResponderConfig {
  const present = presentVariables(env);
  const issues: z.core.$ZodIssue[] = [];
  const sources: Record<string, unknown> = {};
  for (const source of SOURCES) {
    // Every present variable of every sender is checked now, with its own schema (built for it
    // alone), so a bad one fails every request closed from the cold start; the sender's section,
    // and its settings, are built only when read (shared/sources/registry.ts): a request needs one sender.
    for (const [name, variable] of Object.entries(source.variables as Record<string, EnvVar>)) {
      if (present[name] === undefined) continue;
      const value = z.safeParse(variable.schema(), present[name]);
      if (!value.success)
        issues.push(...value.error.issues.map((issue) => ({ ...issue, path: [name, ...issue.path] })));
    }
    let settings: unknown;
    Object.defineProperty(sources, source.name, {
      enumerable: true,
      get: () => {
        settings ??= z.parse(source.config(), present);
        return settings;
      },
    });
  }
  const central = parseEnvVars(ENV_VARS, present);
  issues.push(...central.issues);
  if (issues.length > 0) throw new ConfigError(`invalid configuration: ${describe(issues)}`);
  const e = central.values;
  const credentials =
    e.ALIBABA_CLOUD_ACCESS_KEY_ID && e.ALIBABA_CLOUD_ACCESS_KEY_SECRET
      ? {
          accessKeyId: e.ALIBABA_CLOUD_ACCESS_KEY_ID,
          accessKeySecret: e.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
          securityToken: e.ALIBABA_CLOUD_SECURITY_TOKEN || undefined,
        }
      : undefined;
  const accountId = e.ALIBABA_CLOUD_ACCOUNT_ID ?? e.FC_ACCOUNT_ID;
  return {
    sources: sources as SourceSettings,
    accountId,
    chat: {
      slack: { users: e.SLACK_ALLOWED_USERS, places: e.SLACK_ALLOWED_CHANNELS, commands: e.SLACK_COMMANDS },
      dingtalk: { users: e.DINGTALK_ALLOWED_USERS, places: e.DINGTALK_ALLOWED_CONVERSATIONS },
      feishu: { users: e.FEISHU_ALLOWED_USERS, places: e.FEISHU_ALLOWED_CHATS },
    },
    policy: {
      allowedInstances: e.ALLOWED_INSTANCES,
      maxTargetsPerEvent: e.MAX_TARGETS_PER_EVENT,
      dryRun: e.DRY_RUN,
      resumeOn: e.RESUME_ON,
    },
    alertLabels: { instance: e.ALERT_INSTANCE_LABELS, region: e.ALERT_REGION_LABELS },
    region: e.ALIBABA_CLOUD_REGION ?? e.FC_REGION,
    endpoint: e.ELASTICSEARCH_ENDPOINT,
    credentials,
    maxBodyBytes: e.MAX_BODY_BYTES,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    retryDeadlineMs: e.RETRY_DEADLINE_MS,
    commandDeadlineMs: e.COMMAND_DEADLINE_MS,
    fanOutConcurrency: e.FAN_OUT_CONCURRENCY,
    guardrails: toGuardrailConfig(e),
    async: {
      sources: e.ASYNC_SOURCES,
      invoke: asyncCoordinates(e, accountId),
    },
  };
}
