import { describeError } from '../../errors';
import { MAX_CONVERSATION_SYSTEM_CHARS } from '../../history/conversation-settings';
import { deliverNotice } from './deliver';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';
import {
  modelListMessage,
  modelSwitchedMessage,
  STEERING_MESSAGES,
  systemSetMessage,
  systemShowMessage,
  unknownModelMessage,
} from './steering-messages';

/**
 * A conversation steering itself from the chat: `\model` switches its model among OPENAI_MODELS, `\system`
 * adds its own system prompt on top of SYSTEM_PROMPT. In a group only ADMIN_USERS may change them (the
 * whole group gets the change); in a 1:1 chat the person may. Every question reads the choices.
 */

/** What this conversation chose: its model (only while still one of OPENAI_MODELS) and system prompt. */
export async function conversationChoices(run: ReplyRun): Promise<{ model?: string; system?: string }> {
  const store = run.deps.conversationSettings;
  if (store === undefined) return {};
  try {
    const chosen = await run.report.timed('settings', () => store.read(run.task.conversationId));
    const models = run.deps.settings.models ?? [];
    const model = chosen.model !== undefined && models.includes(chosen.model) ? chosen.model : undefined;
    if (model !== undefined) run.report.set({ conversationModel: model });
    if (chosen.system !== undefined) run.report.set({ conversationSystem: true });
    return { ...(model !== undefined ? { model } : {}), ...(chosen.system !== undefined ? { system: chosen.system } : {}) };
  } catch (error) {
    // Better the bot's defaults than no answer.
    run.log.warn('reply.settings_unavailable', { error: describeError(error) });
    return {};
  }
}

/** Whether the sender may change this conversation's settings. */
function maySteer(run: ReplyRun): boolean {
  if (run.task.conversationType !== '2') return true;
  const staffId = run.task.senderStaffId;
  return staffId !== undefined && (run.deps.settings.adminUsers ?? []).includes(staffId);
}

/** `\model` and `\model NAME`. */
export async function steerModel(run: ReplyRun, name: string | undefined): Promise<ReplyOutcome> {
  const { settings, conversationSettings: store } = run.deps;
  const choices = settings.models ?? [];
  const configured = settings.defaultModel ?? 'the configured model';
  try {
    const chosen = store !== undefined ? await run.report.timed('settings', () => store.read(run.task.conversationId)) : {};
    const current = chosen.model !== undefined && choices.includes(chosen.model) ? chosen.model : configured;
    if (name === undefined) return deliverNotice(run, modelListMessage(current, choices), 'steering');
    if (!maySteer(run)) return deliverNotice(run, STEERING_MESSAGES.adminsOnly, 'not_allowed');
    const model = choices.find((choice) => choice.toLowerCase() === name.toLowerCase());
    if (model === undefined || store === undefined) return deliverNotice(run, unknownModelMessage(name, choices), 'steering');
    await run.report.timed('settings', () =>
      store.write(run.task.conversationId, { ...chosen, model, updatedBy: run.task.userId, updatedAt: run.deps.clock.now() }),
    );
    run.report.set({ switchedModel: model });
    return deliverNotice(run, modelSwitchedMessage(model), 'steering');
  } catch (error) {
    run.log.error('reply.settings_unavailable', { error: describeError(error) });
    return deliverNotice(run, STEERING_MESSAGES.unavailable, 'steering');
  }
}

/** `\system`, `\system TEXT` and `\system reset`. */
export async function steerSystem(run: ReplyRun, text: string | undefined, reset: boolean): Promise<ReplyOutcome> {
  const store = run.deps.conversationSettings;
  try {
    const chosen = store !== undefined ? await run.report.timed('settings', () => store.read(run.task.conversationId)) : {};
    if (text === undefined && !reset) {
      return deliverNotice(run, chosen.system !== undefined ? systemShowMessage(chosen.system) : STEERING_MESSAGES.noSystem, 'steering');
    }
    if (!maySteer(run)) return deliverNotice(run, STEERING_MESSAGES.adminsOnly, 'not_allowed');
    if (store === undefined) return deliverNotice(run, STEERING_MESSAGES.unavailable, 'steering');
    const updated = { ...chosen, updatedBy: run.task.userId, updatedAt: run.deps.clock.now() };
    if (reset) {
      delete updated.system;
      await run.report.timed('settings', () => store.write(run.task.conversationId, updated));
      return deliverNotice(run, STEERING_MESSAGES.systemReset, 'steering');
    }
    const chars = Array.from(text ?? '');
    const system = chars.slice(0, MAX_CONVERSATION_SYSTEM_CHARS).join('');
    await run.report.timed('settings', () => store.write(run.task.conversationId, { ...updated, system }));
    run.report.set({ systemChars: chars.length });
    return deliverNotice(run, systemSetMessage(chars.length > MAX_CONVERSATION_SYSTEM_CHARS, MAX_CONVERSATION_SYSTEM_CHARS), 'steering');
  } catch (error) {
    run.log.error('reply.settings_unavailable', { error: describeError(error) });
    return deliverNotice(run, STEERING_MESSAGES.unavailable, 'steering');
  }
}
