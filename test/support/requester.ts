import { ACTIONS, type FunctionName } from '../../shared/actions.ts';
import type { CommandEvent } from '../../shared/async/command-event.ts';

/**
 * Who asked, as the hand-off carries it in a chat command event (the command invocation checks the
 * allow-lists again): `userId` must be one the test's *_ALLOWED_USERS admits (or `*`).
 */
export function commandRequester(
  source: string,
  userId = 'U-test',
  fn: FunctionName = 'interrupt-elasticsearch-task',
): { requester?: NonNullable<CommandEvent['requester']> } {
  if (source !== 'slack' && source !== 'dingtalk' && source !== 'feishu') return {};
  return {
    requester: {
      platform: source,
      userIds: [userId],
      userName: 'tester',
      ...(source === 'slack' ? { command: ACTIONS[fn].slackCommand } : {}),
    },
  };
}
