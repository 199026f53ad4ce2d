import path from 'node:path';
import { TOKENS_FOR_REPLY, TOKENS_PER_MESSAGE } from '../shared/core/prompt';
import { loadO200kCounter } from '../shared/llm/token-counter';
import { expectCount, expectOutcomes } from './checks';
import { bundlePath } from './dist';
import type { Figures } from './figures';
import { runCold, runWarm, type ColdRun, type ProcessOptions } from './processes';
import type { FunctionSizing } from './s-yaml-sizing';
import { perMessage } from './server-waits';
import { BENCH, cardEnv, conversationEnv, handlerContext, replyEnv, type Services } from './services';
import { mean, median, percentile, round } from './stats';
import { measureStreaming } from './streaming';
import type { WarmJob } from './warm-driver';
import { Workload, type Plan } from './workload';

/** Figures measured by running the bundles (the bundle sizes are read from dist/ by the caller). */
export type MeasuredFigures = Omit<Figures, 'bundle_conversation_kb' | 'bundle_reply_kb'>;
/** Supporting numbers printed under the table: what a figure is made of. */
export type Details = Record<string, string>;

const BARE_HANDLER = path.join(__dirname, 'bare-handler.cjs');
const CONVERSATION_CONTEXT = handlerContext('dingtalk-llm-conversation');
const REPLY_CONTEXT = handlerContext(BENCH.replyFunction);
/** HISTORY_LENGTH of the long-prompt cold start: every exchange of the history goes into the prompt. */
const LONG_PROMPT_EXCHANGES = 20;
const ms = (value: number): string => `${round(value, 2)} ms`;
/** The highest peak RSS of `runs`, in MB. */
const peakMb = (runs: ColdRun[]): number => round(Math.max(...runs.map((run) => run.maxRssKb)) / 1024, 1);
const mb = (runs: ColdRun[]): string => `${peakMb(runs)} MB`;

/** Cuts `items` into consecutive parts of the given sizes. */
function split<T>(items: T[], sizes: number[]): T[][] {
  let start = 0;
  const parts = sizes.map((size) => items.slice(start, (start += size)));
  expectCount('items to split', items, start);
  return parts;
}

/**
 * The async payloads the conversation bundle sends for `events`, exactly as the reply function receives
 * them: the events go through the real conversation handler and the FC fake keeps each payload.
 */
async function replyTasks(services: Services, events: Buffer[], options: ProcessOptions): Promise<Buffer[]> {
  const before = services.fc.invocations.length;
  const run = await runWarm(warmJob(bundlePath('conversation'), events, CONVERSATION_CONTEXT), options);
  expectOutcomes('conversation (preparing reply tasks)', run, '200');
  const payloads = services.fc.invocations.slice(before).map((invocation) => invocation.payload);
  expectCount('async invocations', payloads, events.length);
  return payloads;
}

function warmJob(module: string, events: Buffer[], context: Record<string, unknown>): WarmJob {
  return { module, events: events.map((event) => event.toString('base64')), context };
}

/** Prompt tokens of each chat request the LLM fake received since `from`, counted like the reply's prompt builder. */
async function promptTokens(services: Services, from: number): Promise<number[]> {
  const counter = await loadO200kCounter();
  return services.openai.requests.slice(from).map((request) => {
    const messages = (request.body as { messages: Array<{ content: string }> }).messages;
    return messages.reduce((sum, message) => sum + counter.count(message.content) + TOKENS_PER_MESSAGE, TOKENS_FOR_REPLY);
  });
}

/**
 * Runs every measurement of issue 5 against `services`:
 * 1. the conversation bundle turns the reply phases' callbacks into async payloads (unmeasured);
 * 2. warm ack: one process, sequential signed callbacks, each answered after the invoke reached the FC fake;
 * 3. history: the reply bundle answers `historyExchanges` questions of `questionBytes` (2 KB exchanges);
 * 4. warm reply over that history: total per message minus the LLM fake's and webhook sink's own time;
 * 5. cold rounds: bare node, conversation, reply, each a fresh process, in rotating order; the reply
 *    runs with the shipped defaults (HISTORY_LENGTH, MAX_CONTEXT_TOKENS) like the figures above, and
 *    once more with HISTORY_LENGTH=20, whose ~40 KB prompt loads the tokenizer (a detail line), and
 *    once more with AI cards configured (issue 10: the card code must not cost the cold start much);
 * 6. a long conversation of random-length turns under a small MAX_CONTEXT_TOKENS, its prompts counted
 *    with the real tokenizer;
 * 7. the streaming step (see streaming.ts): answers streamed by a paced LLM into cards and to the webhook.
 */
export async function measure(
  services: Services,
  plan: Plan,
  sizing: Record<string, FunctionSizing>,
  childOptions: Omit<ProcessOptions, 'env'> = {},
): Promise<{ figures: MeasuredFigures; details: Details }> {
  const conversation: ProcessOptions = { env: conversationEnv(services), ...childOptions };
  // The reply figures describe the shipped configuration: HISTORY_LENGTH and MAX_CONTEXT_TOKENS at their defaults.
  const reply: ProcessOptions = { env: replyEnv(services), ...childOptions };
  const longPrompt: ProcessOptions = { env: replyEnv(services, { HISTORY_LENGTH: String(LONG_PROMPT_EXCHANGES) }), ...childOptions };
  const replyCards: ProcessOptions = { env: replyEnv(services, cardEnv(services)), ...childOptions };
  const workload = new Workload(services.sink.webhookUrl('bench'));
  const alice = workload.sender('alice');
  const carol = workload.sender('carol');
  const bob = workload.sender('bob');

  // 1. Reply payloads, made by the conversation bundle itself.
  const replyWarmCount = plan.replyWarmup + plan.replyMessages;
  const [seedTasks, warmTasks, coldTasks, longPromptTasks, cardsColdTasks, turnTasks] = split(
    await replyTasks(
      services,
      [
        ...workload.questions(alice, plan.historyExchanges + replyWarmCount + 3 * plan.coldRounds, plan.questionBytes),
        ...workload.randomQuestions(bob, plan.turns),
      ],
      conversation,
    ),
    [plan.historyExchanges, replyWarmCount, plan.coldRounds, plan.coldRounds, plan.coldRounds, plan.turns],
  );

  // 2. Warm ack: ordinary short questions.
  const ack = await runWarm(warmJob(bundlePath('conversation'), workload.questions(carol, plan.ackWarmup + plan.ackRequests, 60), CONVERSATION_CONTEXT), conversation);
  expectOutcomes('conversation (warm ack)', ack, '200');
  const ackTimes = ack.durations.slice(plan.ackWarmup);

  // 3. History: 2 KB exchanges.
  expectOutcomes('reply (seeding history)', await runWarm(warmJob(bundlePath('reply'), seedTasks, REPLY_CONTEXT), reply), 'answered');

  // 4. Warm reply overhead.
  services.waits.take(services.llmPort);
  services.waits.take(services.webhookPort);
  services.oss.resetCounts();
  const warm = await runWarm(warmJob(bundlePath('reply'), warmTasks, REPLY_CONTEXT), reply);
  expectOutcomes('reply (warm)', warm, 'answered');
  const ossRequests = Object.values(services.oss.counts()).reduce((sum, count) => sum + (count ?? 0), 0);
  const ossBreakdown = JSON.stringify(services.oss.counts());
  const llmRequests = services.waits.take(services.llmPort);
  expectCount('LLM requests', llmRequests, warmTasks.length);
  const llmWaits = llmRequests.map((wait) => wait.ms);
  const webhookWaits = perMessage(llmRequests, services.waits.take(services.webhookPort));
  const measuredRange = (values: number[]): number[] => values.slice(plan.replyWarmup);
  const overhead = measuredRange(warm.durations.map((total, i) => total - (llmWaits[i] ?? 0) - (webhookWaits[i] ?? 0)));
  const billedReply = measuredRange(warm.durations.map((total, i) => total - (llmWaits[i] ?? 0)));

  // 5. Cold starts, each kind in turn going first so drift over the run hits all kinds alike.
  const coldAcks = workload.questions(carol, plan.coldRounds, 60);
  const openApiCallsBefore = services.dingtalk.calls.length;
  const bare: ColdRun[] = [];
  const conversationCold: ColdRun[] = [];
  const replyCold: ColdRun[] = [];
  const longPromptCold: ColdRun[] = [];
  const cardsCold: ColdRun[] = [];
  for (let round = 0; round < plan.coldRounds; round += 1) {
    const ackEvent = coldAcks[round] as Buffer;
    const runs = [
      async () => bare.push(await runCold(BARE_HANDLER, ackEvent, CONVERSATION_CONTEXT, { env: {}, ...childOptions })),
      async () => conversationCold.push(await runCold(bundlePath('conversation'), ackEvent, CONVERSATION_CONTEXT, conversation)),
      async () => replyCold.push(await runCold(bundlePath('reply'), coldTasks[round] as Buffer, REPLY_CONTEXT, reply)),
      async () => longPromptCold.push(await runCold(bundlePath('reply'), longPromptTasks[round] as Buffer, REPLY_CONTEXT, longPrompt)),
      async () => cardsCold.push(await runCold(bundlePath('reply'), cardsColdTasks[round] as Buffer, REPLY_CONTEXT, replyCards)),
    ];
    for (let i = 0; i < runs.length; i += 1) await (runs[(round + i) % runs.length] as () => Promise<number>)();
  }
  expectOutcomes('conversation (cold)', { outcomes: conversationCold.map((run) => String((run.result as { statusCode?: number }).statusCode)) }, '200');
  for (const runs of [replyCold, longPromptCold, cardsCold]) {
    expectOutcomes('reply (cold)', { outcomes: runs.map((run) => String((run.result as { outcome?: string }).outcome)) }, 'answered');
  }
  const bareMs = median(bare.map((run) => run.ms));
  // Only the card-configured runs call the OpenAPI.
  const cardsColdCalls = round((services.dingtalk.calls.length - openApiCallsBefore) / plan.coldRounds, 1);

  // 6. A long conversation under a small MAX_CONTEXT_TOKENS.
  const requestsBefore = services.openai.requests.length;
  const turnsEnv = replyEnv(services, { HISTORY_LENGTH: String(plan.historyExchanges), MAX_CONTEXT_TOKENS: String(plan.turnsMaxContextTokens) });
  expectOutcomes('reply (long conversation)', await runWarm(warmJob(bundlePath('reply'), turnTasks, REPLY_CONTEXT), { ...childOptions, env: turnsEnv }), 'answered');
  const tokens = await promptTokens(services, requestsBefore);
  expectCount('LLM requests of the long conversation', tokens, turnTasks.length);

  // 7. Streaming into cards, and to the webhook.
  const streaming = await measureStreaming(services, plan, workload, { conversation: sizing.conversation as FunctionSizing, reply: sizing.reply as FunctionSizing }, childOptions);

  const conversationSize = sizing.conversation as FunctionSizing;
  const replySize = sizing.reply as FunctionSizing;
  // GB-seconds = seconds × GB: warm invocations, reply without its LLM wait (see the README).
  const gbSeconds = 1000 * ((mean(ackTimes) / 1000) * (conversationSize.memoryMb / 1024) + (mean(billedReply) / 1000) * (replySize.memoryMb / 1024));

  const figures: MeasuredFigures = {
    ack_p50_ms: round(percentile(ackTimes, 50), 3),
    ack_p99_ms: round(percentile(ackTimes, 99), 3),
    conversation_cold_ms: round(median(conversationCold.map((run) => run.ms)) - bareMs, 1),
    node_bare_ms: round(bareMs, 1),
    reply_overhead_p50_ms: round(percentile(overhead, 50), 2),
    reply_overhead_p99_ms: round(percentile(overhead, 99), 2),
    reply_cold_ms: round(median(replyCold.map((run) => run.ms)) - bareMs, 1),
    reply_peak_rss_mb: peakMb(replyCold),
    reply_cards_cold_ms: round(median(cardsCold.map((run) => run.ms)) - bareMs, 1),
    reply_cards_peak_rss_mb: peakMb(cardsCold),
    oss_requests_per_message: round(ossRequests / warmTasks.length, 2),
    prompt_tokens_p99: percentile(tokens, 99),
    gb_seconds_per_1000_messages: round(gbSeconds, 4),
    ...streaming.figures,
  };
  const details: Details = {
    repetitions: `ack ${plan.ackRequests} (+${plan.ackWarmup} warm-up), reply ${plan.replyMessages} (+${plan.replyWarmup} warm-up), ${plan.coldRounds} cold rounds, ${plan.turns} turns, ${plan.streamMessages} streamed answers per mode`,
    'ack (warm)': `mean ${ms(mean(ackTimes))}, max ${ms(Math.max(...ackTimes))}`,
    'reply (warm)': `total p50 ${ms(median(measuredRange(warm.durations)))}, LLM fake p50 ${ms(median(measuredRange(llmWaits)))}, webhook sink p50 ${ms(median(measuredRange(webhookWaits)))}; history ${plan.historyExchanges} exchanges of ${2 * plan.questionBytes} B, HISTORY_LENGTH and MAX_CONTEXT_TOKENS at their defaults`,
    'cold medians': `bare ${ms(bareMs)}, conversation ${ms(median(conversationCold.map((run) => run.ms)))}, reply ${ms(median(replyCold.map((run) => run.ms)))} (spawn to answer)`,
    'reply cold, long prompt': `${ms(median(longPromptCold.map((run) => run.ms)) - bareMs)} over bare node, peak RSS ${mb(longPromptCold)}: HISTORY_LENGTH=${LONG_PROMPT_EXCHANGES}, so all ${plan.historyExchanges} exchanges of ${2 * plan.questionBytes} B may go into the prompt; its byte count exceeds MAX_CONTEXT_TOKENS, so the tokenizer loads`,
    'reply cold, cards configured': `${ms(median(cardsCold.map((run) => run.ms)) - bareMs)} over bare node, peak RSS ${mb(cardsCold)}: DINGTALK_CLIENT_ID and DINGTALK_CARD_TEMPLATE_ID set, so the answer streams into a card through the DingTalk OpenAPI fake (no latency): ${cardsColdCalls} OpenAPI calls in turn (token, create, updates, finalize) where the webhook-only answer makes one webhook post`,
    'peak RSS': `cold reply ${mb(replyCold)}, cold conversation ${mb(conversationCold)}, bare node ${mb(bare)}, warm reply process after ${warm.durations.length} messages ${round(warm.maxRssKb / 1024, 1)} MB`,
    'OSS requests (warm reply)': ossBreakdown,
    'long conversation': `MAX_CONTEXT_TOKENS=${plan.turnsMaxContextTokens}, prompt tokens p50 ${median(tokens)}, max ${Math.max(...tokens)}`,
    'compute per message': `conversation ${ms(mean(ackTimes))} × ${conversationSize.memoryMb} MB + reply ${ms(mean(billedReply))} × ${replySize.memoryMb} MB (memory from s.yaml; reply without LLM wait)`,
    ...streaming.details,
  };
  return { figures, details };
}
