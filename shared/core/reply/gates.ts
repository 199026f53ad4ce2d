import { checkWebhookUrl, redactWebhookUrl } from '../../dingtalk/webhook-url';
import { isAllowed } from '../access';
import { HELP_TEXT, parseCommand } from '../commands';
import { USER_MESSAGES } from '../user-messages';
import { INPUT_MESSAGES } from './input-messages';
import type { ChatContent } from './inputs';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';

/** What the gates decided about a message. */
export type GateDecision =
  /** Nothing is sent anywhere. */
  | { kind: 'stop'; outcome: ReplyOutcome }
  /** A fixed text answers it (help, not allowed, text only). */
  | { kind: 'notice'; text: string; outcome: ReplyOutcome }
  /** `\clear`. */
  | { kind: 'clear' }
  /** `\usage`. */
  | { kind: 'usage' }
  /** `\model` or `\system`. */
  | { kind: 'model'; name?: string }
  | { kind: 'system'; text?: string; reset: boolean }
  /** `\memory` or `\forget`. */
  | { kind: 'memory'; forget: boolean; which?: number | 'all' }
  /** A deployment probe from `npm run doctor -- --url`. */
  | { kind: 'probe' }
  /** A question for the LLM: the content, and for text the question as typed (trimmed). */
  | { kind: 'chat'; content: ChatContent; question?: string };

/**
 * The gates, in order: where the answer may go (the session webhook must be an allowed DingTalk URL,
 * or the task is not ours; an expired one with no OpenAPI to fall back on means nobody would hear the
 * answer), who may ask (ALLOWED_USERS, ALLOWED_CONVERSATIONS), and what was asked (a
 * probe, a command, a kind of message the bot cannot read — pictures and files need the OpenAPI to be
 * downloaded — or a question).
 */
export function passGates(run: ReplyRun): GateDecision {
  const { task, deps } = run;
  const refusal = checkWebhookUrl(task.sessionWebhook, deps.settings.webhookHosts);
  if (refusal !== undefined) {
    run.log.warn('reply.webhook_refused', {
      reason: refusal,
      url: redactWebhookUrl(task.sessionWebhook),
      allowed: [...deps.settings.webhookHosts],
    });
    return { kind: 'stop', outcome: 'destination_refused' };
  }
  if (task.sessionWebhookExpiredTime !== undefined && task.sessionWebhookExpiredTime <= deps.clock.now() && deps.openApi === undefined) {
    // Nothing could carry an answer: do not ask the LLM for one (with DINGTALK_CLIENT_ID the OpenAPI would).
    run.log.warn('reply.webhook_expired', { expiredAt: task.sessionWebhookExpiredTime });
    return { kind: 'stop', outcome: 'delivery_expired' };
  }
  if (task.probe !== undefined) return { kind: 'probe' };
  if (!isAllowed(task, deps.settings)) {
    run.report.set({ conversationId: task.conversationId });
    return { kind: 'notice', text: USER_MESSAGES.notAllowed, outcome: 'not_allowed' };
  }
  const content = task.content;
  if (content.kind === 'unsupported') {
    run.report.set({ msgtype: content.msgtype });
    const text = content.msgtype === 'audio' ? INPUT_MESSAGES.voiceUnrecognized : USER_MESSAGES.unsupported;
    return { kind: 'notice', text, outcome: 'unsupported' };
  }
  if (content.kind !== 'text') {
    run.report.set({ msgtype: content.kind === 'parts' ? 'picture' : 'file' });
    if (deps.openApi === undefined) {
      // Pictures and files are downloaded through the OpenAPI: say what the admin can do, not "text only".
      return { kind: 'notice', text: content.kind === 'parts' ? INPUT_MESSAGES.picturesNeedClientId : INPUT_MESSAGES.filesNeedClientId, outcome: 'unsupported' };
    }
    return { kind: 'chat', content };
  }
  const command = parseCommand(content.text);
  switch (command.kind) {
    case 'clear':
      return { kind: 'clear' };
    case 'usage':
      return { kind: 'usage' };
    case 'model':
      return command.name !== undefined ? { kind: 'model', name: command.name } : { kind: 'model' };
    case 'system':
      return command.text !== undefined ? { kind: 'system', text: command.text, reset: false } : { kind: 'system', reset: command.reset === true };
    case 'memory':
      return { kind: 'memory', forget: false };
    case 'forget':
      return command.which !== undefined ? { kind: 'memory', forget: true, which: command.which } : { kind: 'memory', forget: true };
    case 'help':
    case 'empty':
    case 'unknown':
      run.report.set({ command: command.kind === 'unknown' ? command.name : command.kind });
      return { kind: 'notice', text: HELP_TEXT, outcome: 'help' };
    case 'chat':
      return { kind: 'chat', content, question: command.text };
  }
}
