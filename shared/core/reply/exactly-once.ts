/**
 * One message, one answer: the exactly-once state machine of a question, whatever FC and DingTalk
 * redeliver or retry. Its states, and what moves a run from one to the next:
 *
 *   admitted ──claim──▶ claimed ──open channel──▶ generating ──LLM answered──▶ saved ──delivered──▶ done ──▶ memory learns
 *                                                                                                (exchanges leaving the window)
 *      │                  │                          │                          │
 *      │                  │                          │                          └─ nothing got through, retry can help:
 *      │                  │                          │                             marked unposted, FC retries ─▶ resumed
 *      │                  │                          └─ LLM failed: claim released, question refunded,
 *      │                  │                             one failure message (never retried: a retry would ask the LLM again)
 *      │                  ├─ answered (another run posted it) ─▶ duplicate
 *      │                  ├─ busy (another run holds a fresh claim) ─▶ FC retries later
 *      │                  └─ unposted (saved, never delivered) ─▶ resumed: deliver the saved answer, no LLM call
 *      └─ over the daily limit ─▶ the limit message
 *
 * A claim is a create-only object in the user's history folder, so one message gets one LLM call. A
 * streaming channel shows text before the exchange is saved: FC's retry of a run that died mid-stream
 * takes its own claim over (same requestId) and streams again into the same card, whose id comes from the
 * message. The history store being unreachable never stops an answer: the run goes on unguarded and says so.
 */
import { describeError, LlmRefusedError, RetryLaterError, StorageError } from '../../errors';
import { ExchangeLog } from '../../history/exchange-log';
import type { ClaimResult, Exchange } from '../../history/exchange';
import type { DeliveryChannel } from '../../delivery/channel';
import type { LlmAnswer } from '../../ports';
import { llmFailureMessage } from '../user-messages';
import { channelForRun, deliverNotice, deliverText } from './deliver';
import type { PromptPicture } from '../prompt';
import { generate, promptPictures } from './generate';
import { readInput, type ChatContent, type Question } from './inputs';
import { deliveryRecord } from './quoted-answer';
import { learnFrom, leavingWindow, recallMemory } from './memory-step';
import { conversationChoices } from './steering';
import { recordUsage } from './usage-step';
import { admit } from './limits';
import type { ReplyOutcome } from './report';
import type { ReplyRun } from './run';

/** How long a claim may be held before another run may take it over, when FC does not say (its timeout). */
export const DEFAULT_CLAIM_LEASE_MS = 180_000;

/** Claims the message; a store that cannot be reached lets the run go on unguarded. */
async function claim(run: ReplyRun, exchangeId: string): Promise<ClaimResult> {
  const { history, clock, invocation } = run.deps;
  try {
    return await run.report.timed('claim', () =>
      history.claim(run.key, exchangeId, {
        at: clock.now(),
        ...(invocation?.requestId !== undefined ? { owner: invocation.requestId } : {}),
        leaseMs: invocation?.timeoutMs ?? DEFAULT_CLAIM_LEASE_MS,
      }),
    );
  } catch (error) {
    run.log.warn('reply.claim_unavailable', { error: describeError(error) });
    run.report.set({ claimed: false });
    return { kind: 'claimed', tookOver: false };
  }
}

/** The user's recent exchanges without this message; a store that cannot be read gives none. */
async function loadContext(run: ReplyRun, exchangeId: string): Promise<Exchange[]> {
  try {
    return await run.report.timed('history', () => run.deps.history.loadRecent(run.key, run.deps.settings.historyLength, { exclude: exchangeId }));
  } catch (error) {
    // Better an answer without context than none: the log says the history was not read.
    run.log.warn('reply.history_unavailable', { error: describeError(error) });
    run.report.set({ historyUnavailable: true });
    return [];
  }
}

/** Saves the exchange; a failure is logged and the answer still goes out. */
async function save(run: ReplyRun, exchange: Exchange, context: readonly Exchange[], posted?: boolean): Promise<boolean> {
  try {
    const owner = run.deps.invocation?.requestId;
    await run.report.timed('save', () =>
      run.deps.history.save(run.key, exchange, context, {
        ...(posted === false ? { posted: false } : {}),
        ...(owner !== undefined ? { owner } : {}),
      }),
    );
    return true;
  } catch (error) {
    run.log.error('reply.history_save_failed', {
      error: describeError(error),
      operation: error instanceof StorageError ? error.operation : 'write',
      posted: posted !== false,
    });
    return false;
  }
}

/**
 * Delivers a saved answer. When nothing got through and a retry can help, the exchange is marked unposted
 * before FC is asked to retry, so the retry delivers it without asking the LLM again.
 */
async function deliverAnswer(run: ReplyRun, channel: DeliveryChannel, exchange: Exchange, context: readonly Exchange[], saved: boolean): Promise<ReplyOutcome> {
  const delivered = await deliverText(run, channel, exchange.assistant, 'answer', 'answered');
  if (delivered.retry !== undefined) {
    if (saved) run.report.set({ markedUnposted: await save(run, exchange, context, false) });
    throw delivered.retry;
  }
  return delivered.outcome;
}

/** Opens the answer's channel; when no channel can carry it, the outcome to end with. */
async function openChannel(run: ReplyRun, resumed: boolean): Promise<{ channel: DeliveryChannel; refused?: ReplyOutcome }> {
  const channel = channelForRun(run, 'answer', resumed);
  const refusal = await run.report.timed('open', () => channel.open({ signal: run.deadline.end, remainingMs: () => run.deadline.remaining() }));
  if (refusal === undefined) return { channel };
  return { channel, refused: refusal.expired ? 'delivery_expired' : 'delivery_failed' };
}

/** The LLM failed: the claim is given up and the question refunded, and the user gets one short message. */
async function llmFailed(run: ReplyRun, channel: DeliveryChannel, exchangeId: string, error: unknown, refund: () => Promise<void>): Promise<ReplyOutcome> {
  const operatorHint =
    error instanceof LlmRefusedError && error.reason !== 'filtered' && error.reason !== 'empty' && error.reason !== 'request'
      ? 'check OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL (npm run doctor -- --llm)'
      : undefined;
  run.log.error('reply.llm_failed', { error: describeError(error), hint: operatorHint });
  // History stays as it was, and the claim is given up so that asking again is a fresh start. The message
  // is never retried by FC: a retry would find the claim free and ask the LLM again.
  return giveUp(run, channel, exchangeId, llmFailureMessage(error), 'llm_failed', refund);
}

/** The pictures to resend: those of the newest exchange in the context that had any, while they are kept. */
async function resentPictures(run: ReplyRun, context: readonly Exchange[]): Promise<Map<string, PromptPicture[]>> {
  const resent = new Map<string, PromptPicture[]>();
  const store = run.deps.pictures;
  const newest = [...context].reverse().find((exchange) => (exchange.pictures?.length ?? 0) > 0);
  if (store === undefined || newest === undefined) return resent;
  try {
    const pictures = await run.report.timed('pictures', () => store.load(run.key, newest.id));
    if (pictures.length > 0) resent.set(newest.id, promptPictures(pictures));
  } catch (error) {
    // Better an answer without the earlier picture than none.
    run.log.warn('reply.pictures_unavailable', { error: describeError(error) });
  }
  return resent;
}

/** Keeps the question's pictures for follow-up questions; a failure only means they are not resent. */
async function keepPictures(run: ReplyRun, exchangeId: string, question: Question): Promise<void> {
  const store = run.deps.pictures;
  if (store === undefined || question.pictures.length === 0) return;
  try {
    await run.report.timed('pictures', () => store.keep(run.key, exchangeId, question.pictures));
  } catch (error) {
    run.log.warn('reply.pictures_not_kept', { error: describeError(error) });
  }
}

/** Gives the message up before the LLM was asked: claim released, question refunded, one short message. */
async function giveUp(run: ReplyRun, channel: DeliveryChannel, exchangeId: string, message: string, outcome: ReplyOutcome, refund: () => Promise<void>): Promise<ReplyOutcome> {
  await run.deps.history.release(run.key, exchangeId).catch((releaseError: unknown) => {
    run.log.warn('reply.release_failed', { error: describeError(releaseError) });
  });
  await refund();
  const delivered = await deliverText(run, channel, message, 'failure', outcome);
  return delivered.retry !== undefined ? 'delivery_failed' : delivered.outcome;
}

/** Answers a question exactly once (see the state machine at the top of this file). */
export async function answerOnce(run: ReplyRun, content: ChatContent, typed?: string): Promise<ReplyOutcome> {
  const { task, deps } = run;
  const admission = await admit(run);
  if (!admission.admitted) return deliverNotice(run, admission.message, admission.outcome);

  const exchangeId = ExchangeLog.exchangeId(task.createdAt, task.msgId);
  // The reads do not depend on the claim: the history, the conversation's choices and the user's memory go out
  // with it, saving round trips before the LLM (a duplicate wastes them, and nothing else).
  const recent = loadContext(run, exchangeId);
  const conversation = conversationChoices(run);
  const memory = recallMemory(run, typed ?? (content.kind === 'text' ? content.text : ''));
  const claimed = await claim(run, exchangeId);
  switch (claimed.kind) {
    case 'answered':
      // A run before this one answered: one message gets one answer.
      return 'duplicate';
    case 'busy':
      throw new RetryLaterError('claim-busy', `another run has held this message since ${new Date(claimed.claimedAt).toISOString()}`);
    case 'unposted': {
      // A run before this one saved the answer but could not deliver it: deliver it, no second LLM call.
      run.report.set({ resumed: true });
      const { channel, refused } = await openChannel(run, true);
      if (refused !== undefined) return refused;
      const outcome = await deliverAnswer(run, channel, claimed.exchange, claimed.context, true);
      if (outcome === 'answered') await save(run, { ...claimed.exchange, ...deliveryRecord(deps.clock.now(), channel, claimed.exchange) }, claimed.context);
      return outcome;
    }
    case 'claimed':
      if (claimed.tookOver) run.report.set({ tookOver: true });
  }

  const { channel, refused } = await openChannel(run, claimed.tookOver);
  if (refused !== undefined) {
    await deps.history.release(run.key, exchangeId).catch(() => undefined);
    await admission.refund();
    return refused;
  }
  // Pictures and files download while the card already shows that the bot is thinking.
  const [context, input] = await Promise.all([recent, run.report.timed('input', () => readInput(run, content, typed, { loaded: recent, exclude: exchangeId }))]);
  if (!input.ok) {
    run.report.set({ inputRefused: input.reason });
    return giveUp(run, channel, exchangeId, input.message, 'input_refused', admission.refund);
  }
  const question = input.question;
  let answer: LlmAnswer & { promptTokensEstimate: number };
  try {
    const streams = deps.settings.card !== undefined && deps.openApi !== undefined;
    const resent = await resentPictures(run, context);
    answer = await generate(run, {
      question,
      context,
      historyPictures: resent,
      memory: await memory,
      conversation: await conversation,
      ...(streams ? { onText: (textSoFar: string) => channel.progress(textSoFar) } : {}),
    });
  } catch (error) {
    return llmFailed(run, channel, exchangeId, error, admission.refund);
  }

  const exchange: Exchange = { id: exchangeId, at: task.createdAt, user: question.text, assistant: answer.text, model: answer.model };
  if (question.pictures.length > 0) exchange.pictures = question.pictures.map((picture) => ({ mediaType: picture.mediaType, bytes: picture.bytes.length }));
  // When and under which ids the answer goes out, so that a quote of it can be found (quoted-answer.ts).
  Object.assign(exchange, deliveryRecord(deps.clock.now(), channel));
  const [saved] = await Promise.all([save(run, exchange, context), keepPictures(run, exchangeId, question), recordUsage(run, answer, answer.promptTokensEstimate)]);
  run.report.set({ saved, answeredAfterMs: deps.clock.now() - task.receivedAt });
  if (run.log.debugEnabled) run.report.set({ question: question.text, answer: answer.text });
  const outcome = await deliverAnswer(run, channel, exchange, context, saved);
  // The user has the answer: now the memory may learn from what leaves the window.
  if (outcome === 'answered') await learnFrom(run, leavingWindow(exchange, context, deps.settings.historyLength));
  return outcome;
}
