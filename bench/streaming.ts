/**
 * The streaming step (issue 10): what a user sees while a fast hosted model writes a long answer, with AI
 * cards and with the session webhook alone, side by side in the same run. Every message goes the way
 * production sends it: a signed callback into the conversation bundle, its async invocation through the
 * FC fake, the reply bundle in a process of its own (see handler-host.ts) streaming from a paced LLM fake
 * into the DingTalk OpenAPI fake or posting to the webhook sink. The figures come from those fakes' records.
 */
import { parseReplyTask } from '../shared/core/reply-task';
import { startOpenAiFake, type OpenAiFake, type OpenAiFakePace } from '../test/fakes/openai-fake';
import { expectCount, expectOutcomes } from './checks';
import { bundlePath } from './dist';
import { chatRequests, isMemoryUpdate, memoryUpdateAnswer } from './memory';
import type { HostReply } from './handler-host';
import { fillerText, type Sender } from './messages';
import { startHandlerHost, type HandlerHost, type ProcessOptions } from './processes';
import type { FunctionSizing } from './s-yaml-sizing';
import { BENCH, cardEnv, conversationEnv, handlerContext, replyEnv, type Services } from './services';
import { median, round } from './stats';
import { cardTimeline, streamingFigures, webhookFirstTextMs, type CardTimeline, type StreamingFigures } from './streaming-timeline';
import type { Plan, Workload } from './workload';

/** A fast hosted model (issue 10): the first token after 800 ms, then one every 30 ms; a token is 4 characters here. */
export const STREAM_PACE: Required<OpenAiFakePace> = { firstTokenDelayMs: 800, tokenDelayMs: 30, tokenChars: 4 };
/** Latency the DingTalk OpenAPI fake adds to each call in this step: a round trip to api.dingtalk.com from a nearby region. */
export const OPENAPI_LATENCY_MS = 20;
/** Bytes of each question: a short chat message. */
const QUESTION_BYTES = 60;

const ms = (value: number): string => `${round(value, 1)} ms`;

/** One delivery mode: its user, session webhook, LLM fake, reply process and what that process answered. */
interface Mode {
  user: Sender;
  session: string;
  llm: OpenAiFake;
  reply: HandlerHost;
  replies: HostReply[];
}

/** What one pair of messages showed. */
interface Pair {
  card: CardTimeline;
  webhookMs: number;
}

/** When the model has written the whole answer: its last token (the fake waits before each one). */
export function wholeAnswerMs(tokens: number): number {
  return STREAM_PACE.firstTokenDelayMs + (tokens - 1) * STREAM_PACE.tokenDelayMs;
}

/**
 * An LLM fake that answers `answer` (`tokens` tokens) at {@link STREAM_PACE} whatever the question: streamed
 * token by token, or, to a request that does not stream (the webhook-only reply), all at once when the
 * model would have written it all. The memory's update call, made after the answer was delivered, gets the
 * list it was given at once.
 */
async function pacedLlm(answer: string, tokens: number): Promise<OpenAiFake> {
  const llm = await startOpenAiFake({ apiKey: BENCH.apiKey, models: [BENCH.model], pace: STREAM_PACE });
  llm.respondWith(async (request) => {
    if (isMemoryUpdate(request.body)) return memoryUpdateAnswer(request);
    if (!request.stream) await new Promise((resolve) => setTimeout(resolve, wholeAnswerMs(tokens)));
    return answer;
  });
  return llm;
}

/** Calls per OpenAPI path, e.g. `{"/v1.0/card/streaming": 21, ...}`. */
function callsByPath(paths: readonly string[]): string {
  const counts: Record<string, number> = {};
  for (const path of paths) counts[path] = (counts[path] ?? 0) + 1;
  return JSON.stringify(counts);
}

const peakMb = (mode: Mode): string => `${round(Math.max(...mode.replies.map((reply) => reply.maxRssKb)) / 1024, 1)} MB`;

/**
 * Sends message `index` of each mode at the same time and waits until both are answered; reads what the
 * user saw from the fakes and checks that each went as it should (a card and no webhook post; a webhook post).
 */
async function runPair(services: Services, workload: Workload, conversation: HandlerHost, modes: { card: Mode; webhook: Mode }, index: number, answer: string): Promise<Pair> {
  const { card, webhook } = modes;
  const cardsBefore = new Set(services.dingtalk.cards.keys());
  const sinkBefore = services.sink.messages.length;
  const [cardSent, webhookSent] = (await Promise.all(
    [card, webhook].map((mode) => conversation.call(workload.questions(mode.user, 1, QUESTION_BYTES)[0] as Buffer)),
  )) as [HostReply, HostReply];
  expectOutcomes('conversation (streaming)', { outcomes: [cardSent.outcome, webhookSent.outcome] }, '200');
  await services.fc.idle();
  for (const mode of [card, webhook]) {
    expectCount('reply runs (streaming)', mode.replies, index + 1);
    expectCount('LLM chat requests (streaming)', chatRequests(mode.llm.requests), index + 1);
  }
  expectOutcomes('reply (streaming)', { outcomes: [card, webhook].map((mode) => mode.replies[index]?.outcome ?? '') }, 'answered');
  const delivered = services.sink.messages.slice(sinkBefore);
  const posted = (mode: Mode): typeof delivered => delivered.filter((message) => message.session === mode.session);
  expectCount('card mode: session webhook posts (the card carries the answer)', posted(card), 0);
  const cards = [...services.dingtalk.cards.values()].filter((made) => !cardsBefore.has(made.outTrackId));
  return {
    card: cardTimeline(cardSent.startedAt, cards, chatRequests(card.llm.requests)[index]?.chunks ?? [], answer),
    webhookMs: webhookFirstTextMs(webhookSent.startedAt, posted(webhook)),
  };
}

/** The lines under the table that say how the streaming figures were taken and what they are made of. */
function streamingDetails(plan: Plan, answer: string, pairs: readonly Pair[], calls: readonly string[], modes: { card: Mode; webhook: Mode }): Record<string, string> {
  const [first, ...warm] = pairs as [Pair, ...Pair[]];
  const cards = warm.map((pair) => pair.card);
  return {
    'streaming setup': `LLM fake: first token after ${STREAM_PACE.firstTokenDelayMs} ms, then ${plan.streamTokens} tokens of ${STREAM_PACE.tokenChars} characters ${STREAM_PACE.tokenDelayMs} ms apart (${answer.length} characters; a request that does not stream gets it all at ${ms(wholeAnswerMs(plan.streamTokens))}); DingTalk OpenAPI fake: ${OPENAPI_LATENCY_MS} ms latency per call; CARD_UPDATE_INTERVAL_MS at its default; ${plan.streamMessages} messages per mode, a card one and a webhook one at the same time; times from the message reaching conversation`,
    'streaming, first message (fresh reply instance: bundle load and token fetch included)': `thinking card ${ms(first.card.thinkingVisibleMs)} (bundle load ${ms(modes.card.replies[0]?.loadMs ?? Number.NaN)}), LLM first token ${ms(first.card.firstTokenMs)}, first text: card ${ms(first.card.firstTextMs)}, webhook ${ms(first.webhookMs)}`,
    'streaming, warm': `first text: card p50 ${ms(median(cards.map((t) => t.firstTextMs)))}, max ${ms(Math.max(...cards.map((t) => t.firstTextMs)))} (LLM first token p50 ${ms(median(cards.map((t) => t.firstTokenMs)))}; card after it max ${ms(Math.max(...cards.map((t) => t.firstTextMs - t.firstTokenMs)))}); webhook p50 ${ms(median(warm.map((pair) => pair.webhookMs)))}; thinking card max ${ms(Math.max(...cards.map((t) => t.thinkingVisibleMs)))}`,
    'OpenAPI calls (card mode)': `${callsByPath(calls)} for ${plan.streamMessages} messages`,
    'streaming reply processes': `peak RSS card ${peakMb(modes.card)}, webhook ${peakMb(modes.webhook)}`,
  };
}

/**
 * Sends `plan.streamMessages` questions per mode, a card one and a webhook one at the same time, each
 * pair once the previous one is answered. Each mode's reply process loads its bundle on its first message,
 * as a fresh FC instance does; the conversation process is warm. The contexts carry s.yaml's sizing, so
 * the reply's deadline is the deployed timeout.
 */
export async function measureStreaming(
  services: Services,
  plan: Plan,
  workload: Workload,
  sizing: Record<'conversation' | 'reply', FunctionSizing>,
  childOptions: Omit<ProcessOptions, 'env'>,
): Promise<{ figures: StreamingFigures; details: Record<string, string> }> {
  const answer = fillerText(plan.streamTokens * STREAM_PACE.tokenChars, 0);
  const llms = [await pacedLlm(answer, plan.streamTokens), await pacedLlm(answer, plan.streamTokens)] as const;
  const hosts: HandlerHost[] = [];
  const host = async (module: string, context: Record<string, unknown>, options: ProcessOptions & { preload?: boolean }): Promise<HandlerHost> => {
    const started = await startHandlerHost(module, context, options);
    hosts.push(started);
    return started;
  };
  try {
    const conversationContext = handlerContext('dingtalk-llm-conversation', sizing.conversation);
    const conversation = await host(bundlePath('conversation'), conversationContext, { ...childOptions, env: conversationEnv(services), preload: true });
    const replyContext = handlerContext(BENCH.replyFunction, sizing.reply);
    const mode = async (name: string, llm: OpenAiFake, env: Record<string, string>): Promise<Mode> => ({
      user: workload.sender(`stream-${name}`, services.sink.webhookUrl(`bench-stream-${name}`)),
      session: `bench-stream-${name}`,
      llm,
      reply: await host(bundlePath('reply'), replyContext, { ...childOptions, env: replyEnv(services, { OPENAI_BASE_URL: llm.baseURL, ...env }) }),
      replies: [],
    });
    const modes = { card: await mode('card', llms[0], cardEnv(services)), webhook: await mode('webhook', llms[1], {}) };
    const byConversation = new Map([modes.card, modes.webhook].map((m) => [m.user.conversationId, m]));
    services.runReplies(async (payload) => {
      const target = byConversation.get(parseReplyTask(payload).conversationId);
      if (target !== undefined) target.replies.push(await target.reply.call(payload));
    });
    services.dingtalk.setLatency('*', OPENAPI_LATENCY_MS);

    const callsBefore = services.dingtalk.calls.length;
    const pairs: Pair[] = [];
    for (let i = 0; i < plan.streamMessages; i += 1) pairs.push(await runPair(services, workload, conversation, modes, i, answer));
    const calls = services.dingtalk.calls.slice(callsBefore).map((call) => call.path);
    return {
      figures: streamingFigures(
        pairs.map((pair) => pair.card),
        pairs.map((pair) => pair.webhookMs),
        calls.length,
      ),
      details: streamingDetails(plan, answer, pairs, calls, modes),
    };
  } finally {
    services.runReplies();
    services.dingtalk.setLatency('*', 0);
    await Promise.all(hosts.map((started) => started.close()));
    await Promise.all(llms.map((llm) => llm.close()));
  }
}
