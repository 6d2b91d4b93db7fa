import type * as z from 'zod/mini';
import { alertmanager } from './alertmanager/index.ts';
import { cloudmonitor } from './cloudmonitor/index.ts';
import { dingtalk } from './dingtalk/index.ts';
import { feishu } from './feishu/index.ts';
import { generic } from './generic/index.ts';
import { grafana } from './grafana/index.ts';
import { slack } from './slack/index.ts';
import type { ReplayMemory, SharedSettings, Source } from './source.ts';

/**
 * Every sender this build knows, in the order routes and errors list them. A sender is its folder
 * (definition in its index.ts) and its line here; the configuration, the routes and the hand-off
 * learn of it from this list.
 */
export const SOURCES = [generic, alertmanager, grafana, cloudmonitor, slack, dingtalk, feishu] as const;

type AnySource = (typeof SOURCES)[number];
/** The senders, as they appear in `POST /<function>/<source>`. */
export type SourceName = AnySource['name'];
export const SOURCE_NAMES: readonly SourceName[] = SOURCES.map((source) => source.name);

export const isSourceName = (value: string): value is SourceName => (SOURCE_NAMES as readonly string[]).includes(value);

/** The chat hosts a report may go to at all (exact names): every sender's reply hosts. */
export const REPLY_HOSTS: readonly string[] = Object.freeze(SOURCES.flatMap((source) => source.replyHosts ?? []));

/**
 * The senders whose commands are a person's decision from chat: those a command's outcome is
 * reported back to (a reply target). The guardrails count such a command toward the budget and
 * never refuse it; the hand-off requires it to name who asked.
 */
export const CHAT_SOURCE_NAMES: ReadonlySet<string> = new Set(
  SOURCES.filter((source) => source.replyTarget !== undefined).map((source) => source.name),
);

const BY_NAME = new Map<string, AnySource>(SOURCES.map((source) => [source.name, source]));

/** The definition of a sender; of a name from untrusted input (a queued command), undefined when none. */
export function sourceDefinition(name: SourceName): AnySource;
export function sourceDefinition(name: string): AnySource | undefined;
export function sourceDefinition(name: string): AnySource | undefined {
  return BY_NAME.get(name);
}

/** Each sender's settings, under its name: what its section of the configuration made of its variables. */
export type SourceSettings = {
  readonly [D in AnySource as D['name']]: ReturnType<D['config']> extends z.ZodMiniType<infer Settings>
    ? Settings
    : never;
};

export type SourceLoader = () => Promise<Source>;

/**
 * Every sender, each built once, on first use. An invocation serves one sender, and building the
 * others' schemas costs a cold start ~15 ms for nothing: the dynamic imports in the definitions let
 * the bundler evaluate a sender's module only when it is first asked for. It takes the parts of the
 * configuration it reads by their shape: the configuration composes the senders, never the reverse.
 * `replayMemory`: the function's, on its state store (senders never import the store).
 */
export function createSources(
  config: { readonly sources: SourceSettings } & Omit<SharedSettings, 'replayMemory'>,
  options: { readonly replayMemory?: ReplayMemory | undefined } = {},
): Record<SourceName, SourceLoader> {
  const shared: SharedSettings = {
    alertLabels: config.alertLabels,
    accountId: config.accountId,
    replayMemory: options.replayMemory,
  };
  const loaders = {} as Record<SourceName, SourceLoader>;
  for (const definition of SOURCES) {
    let source: Promise<Source> | undefined;
    loaders[definition.name] = () => {
      // config.sources holds, under each name, what that sender's own section made: its settings,
      // read (and its section built) only here, when the sender is first asked for.
      source ??= definition.create(config.sources[definition.name] as never, shared);
      return source;
    };
  }
  return loaders;
}
