import { ACTIONS, type ActionSpec } from '../actions.ts';
import { ConfigError } from '../errors.ts';
import { compileGlob } from './glob.ts';
import type { Refusal } from './refusal.ts';
import type { AlertState, ChatPlatform, Requester } from './target.ts';

/** What the policy checks, as the configuration gives it. */
export interface PolicySettings {
  /** `undefined` when ALLOWED_INSTANCES is unset: every target is refused. */
  readonly allowedInstances: readonly string[] | undefined;
  readonly maxTargetsPerEvent: number;
  /** Which alert state the resume functions act on; interrupt and cancel act on firing only. */
  readonly resumeOn: 'resolved' | 'firing';
}

/** One chat platform's allow-lists: `undefined` users refuses everyone; `undefined` places allows any. */
export interface ChatAccess {
  readonly users: readonly string[] | undefined;
  readonly places: readonly string[] | undefined;
}

export interface ChatAccessConfig {
  /** `commands`: SLACK_COMMANDS, else the function's own command (see actions.ts). */
  readonly slack: ChatAccess & { readonly commands: readonly string[] | undefined };
  readonly dingtalk: ChatAccess;
  readonly feishu: ChatAccess;
}

/** The variables that govern each chat platform, for replies that say what to change. */
const CHAT_VARIABLES: Record<ChatPlatform, { users: string; places: string; place: string; command: string }> = {
  slack: { users: 'SLACK_ALLOWED_USERS', places: 'SLACK_ALLOWED_CHANNELS', place: 'channel', command: 'Slack command' },
  dingtalk: {
    users: 'DINGTALK_ALLOWED_USERS',
    places: 'DINGTALK_ALLOWED_CONVERSATIONS',
    place: 'conversation',
    command: 'DingTalk command',
  },
  feishu: { users: 'FEISHU_ALLOWED_USERS', places: 'FEISHU_ALLOWED_CHATS', place: 'chat', command: 'Feishu command' },
};

/** Each function's default Slack command, to tell a function's own command from another's. */
const FUNCTION_OF_COMMAND = new Map<string, string>(
  Object.values(ACTIONS).map((spec) => [spec.slackCommand, spec.functionName]),
);

/** `name (ID)`, for replies and logs: who asked. */
export function describeRequester(requester: Requester): string {
  const id = requester.userIds[0];
  if (id === undefined) return `${requester.userName ?? 'a sender'} (no user ID)`;
  return requester.userName ? `${requester.userName} (${id})` : id;
}

/** Unset chat allow-lists: nobody may act from chat, in any place. */
const NO_CHAT_ACCESS: ChatAccessConfig = {
  slack: { users: undefined, places: undefined, commands: undefined },
  dingtalk: { users: undefined, places: undefined },
  feishu: { users: undefined, places: undefined },
};

/** An allow-list of IDs where `*` admits everyone; compiled once. */
function idSet(ids: readonly string[]): (candidates: readonly string[]) => boolean {
  if (ids.includes('*')) return () => true;
  const set = new Set(ids);
  return (candidates) => candidates.some((id) => set.has(id));
}

export interface Policy {
  /**
   * A refusal when the alert state does not call for this action: interrupt and cancel act on
   * firing alerts only, resume on the state RESUME_ON names (resolved by default). Items with no
   * alert state (chat commands, schedules, generic webhooks without `state`) always pass.
   */
  checkAlertState(state: AlertState | undefined): Refusal | undefined;
  /**
   * A refusal of the whole event (blast-radius limit), or undefined: `targetCount` is the changes
   * the event starts (its targets, less the resumptions of interruptions of ours).
   */
  checkEvent(targetCount: number): Refusal | undefined;
  /** A refusal of one target, or undefined when it may be acted on. */
  checkTarget(instanceId: string): Refusal | undefined;
  /**
   * A refusal of a whole chat command: a Slack command that is not this function's, a person not
   * in the platform's allowed users (unset refuses everyone), or a place outside its allowed places.
   */
  checkRequester(requester: Requester): Refusal | undefined;
}

/** Built once per process: the allow-list globs are compiled here, not per request. */
export function createPolicy(
  action: ActionSpec,
  policy: PolicySettings,
  chat: ChatAccessConfig = NO_CHAT_ACCESS,
): Policy {
  const allowed = policy.allowedInstances?.map(compileGlob);
  const wanted: AlertState = action.alertRole === 'resume' ? policy.resumeOn : 'firing';
  const slackCommands = (chat.slack.commands ?? [action.slackCommand]).map((command) => command.toLowerCase());
  // One SLACK_COMMANDS shared by every function would undo the binding: another function's own command is refused.
  const foreign = slackCommands.find((command) => {
    const owner = FUNCTION_OF_COMMAND.get(command);
    return owner !== undefined && owner !== action.functionName;
  });
  const compile = ({ users, places }: ChatAccess) => ({
    users: users && idSet(users),
    places: places && idSet(places),
  });
  const access = { slack: compile(chat.slack), dingtalk: compile(chat.dingtalk), feishu: compile(chat.feishu) };
  return {
    checkRequester(requester) {
      const names = CHAT_VARIABLES[requester.platform];
      if (requester.platform === 'slack' && foreign !== undefined) {
        throw new ConfigError(
          `invalid configuration: SLACK_COMMANDS: ${foreign} is the command of ${FUNCTION_OF_COMMAND.get(foreign)}; set SLACK_COMMANDS per function, with its own commands only`,
        );
      }
      if (requester.platform === 'slack' && !slackCommands.includes(requester.command?.toLowerCase() ?? '')) {
        const source = chat.slack.commands ? ' (SLACK_COMMANDS)' : '';
        return {
          code: 'WrongCommand',
          reason: `${requester.command || 'a request with no command'} is not a command of ${action.functionName}, which answers ${slackCommands.join(', ')}${source}; check the command's Request URL in the Slack app`,
        };
      }
      const { users, places } = access[requester.platform];
      if (users === undefined) {
        return {
          code: 'UserNotAllowed',
          reason: `${names.users} is not set, so every ${names.command} is refused`,
        };
      }
      if (!users(requester.userIds)) {
        return {
          code: 'UserNotAllowed',
          reason: `${describeRequester(requester)} is not in ${names.users}`,
        };
      }
      if (places && !places(requester.placeId === undefined ? [] : [requester.placeId])) {
        const place = requester.placeId
          ? `${names.place} ${requester.placeName ? `${requester.placeName} (${requester.placeId})` : requester.placeId}`
          : `a ${names.place} with no ID`;
        return { code: 'ChannelNotAllowed', reason: `${place} is not in ${names.places}` };
      }
      return undefined;
    },
    checkAlertState(state) {
      if (state === undefined || state === wanted) return undefined;
      return {
        code: 'AlertStateIgnored',
        reason: `the alert is ${state === 'other' ? 'neither firing nor resolved' : state}; ${action.functionName} acts on ${wanted} alerts only`,
      };
    },
    checkEvent(targetCount) {
      if (targetCount <= policy.maxTargetsPerEvent) return undefined;
      return {
        code: 'TooManyTargets',
        reason: `the event would start ${targetCount} changes, more than MAX_TARGETS_PER_EVENT=${policy.maxTargetsPerEvent}; nothing was done`,
      };
    },
    checkTarget(instanceId) {
      if (!instanceId.startsWith(action.prefix)) {
        return {
          code: 'WrongInstanceKind',
          reason: `${action.functionName} acts on ${action.kind} instances (${action.prefix}…) only`,
        };
      }
      if (allowed === undefined) {
        return { code: 'NotAllowed', reason: 'ALLOWED_INSTANCES is not set, so every target is refused' };
      }
      if (!allowed.some((pattern) => pattern.test(instanceId))) {
        return { code: 'NotAllowed', reason: 'the instance is not in ALLOWED_INSTANCES' };
      }
      return undefined;
    },
  };
}
