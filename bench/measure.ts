import path from 'node:path';
import { TOKENS_FOR_REPLY, TOKENS_PER_MESSAGE } from '../shared/core/prompt';
import { MAX_PICTURE_BYTES } from '../shared/core/reply/inputs';
import { loadO200kCounter } from '../shared/llm/token-counter';
import type { OpenAiFakeRequestLog } from '../test/fakes/openai-fake';
import { expectCount, expectOutcomes } from './checks';
import { bundlePath } from './dist';
import type { Figures } from './figures';
import { answerPathMs, chatRequests, isMemoryUpdate, MEMORY_OFF, REMEMBER_QUESTIONS, REMEMBERED_FACTS } from './memory';
import { runCold, runWarm, type ColdRun, type ProcessOptions } from './processes';
import type { FunctionSizing } from './s-yaml-sizing';
import { byMessage, type Wait } from './server-waits';
import { BENCH, cardEnv, conversationEnv, handlerContext, pictureEnv, replyEnv, type Services } from './services';
import { mean, median, percentile, round } from './stats';
import { expectPictureSentTwice, sizeLimitPng } from './picture';
import { measureStreaming } from './streaming';
import type { WarmJob, WarmResult } from './warm-driver';
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
/** The download code of the bench's picture at the size limit, served by the DingTalk OpenAPI fake. */
const PICTURE_DOWNLOAD_CODE = 'bench-picture-at-size-limit';
/** The question after the picture, answered with the picture resent. */
const PICTURE_FOLLOW_UP = 'What does this picture show? Describe the details, please.';
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
  return chatRequests(services.openai.requests.slice(from)).map((request) => {
    const messages = (request.body as { messages: Array<{ content: string }> }).messages;
    return messages.reduce((sum, message) => sum + counter.count(message.content) + TOKENS_PER_MESSAGE, TOKENS_FOR_REPLY);
  });
}

/** The system message of a chat request ('' without one). */
function systemMessage(request: OpenAiFakeRequestLog): string {
  const [first] = (request.body as { messages: Array<{ role: string; content: unknown }> }).messages;
  return first?.role === 'system' && typeof first.content === 'string' ? first.content : '';
}

/** One warm reply run and what the fakes recorded while it ran. */
interface WarmReply {
  run: WarmResult;
  /** Waits inside the LLM fake and the webhook sink, on the monotonic clock. */
  llm: Wait[];
  webhook: Wait[];
  /** Requests the LLM fake received (chat and memory updates), in order. */
  requests: OpenAiFakeRequestLog[];
  /** OSS requests per operation. */
  oss: Partial<Record<string, number>>;
}

/** What the measured messages (after the warm-up) of warm runs cost, per message. */
interface WarmCosts {
  /** Total minus every wait inside the LLM fake and the webhook sink. */
  overhead: number[];
  /** Total minus the LLM waits: the reply's billed time without the model's. */
  billed: number[];
  /** The answer path (see `answerPathMs`). */
  answerPath: number[];
  totals: number[];
  llmWaits: number[];
  webhookWaits: number[];
  /** Per message of the whole runs (warm-up included): OSS requests, chat requests, memory update calls. */
  ossPerMessage: number;
  chatPerMessage: number;
  updatesPerMessage: number;
  /** OSS requests per operation and message, e.g. `{"GetObject":2,...}`. */
  ossBreakdown: string;
}

/** Runs the reply bundle warm over `tasks` in a fresh process; checks that each was answered. */
async function warmReply(services: Services, tasks: Buffer[], options: ProcessOptions, what: string): Promise<WarmReply> {
  services.waits.take(services.llmPort);
  services.waits.take(services.webhookPort);
  services.oss.resetCounts();
  const before = services.openai.requests.length;
  const run = await runWarm(warmJob(bundlePath('reply'), tasks, REPLY_CONTEXT), options);
  expectOutcomes(what, run, 'answered');
  return {
    run,
    llm: services.waits.take(services.llmPort),
    webhook: services.waits.take(services.webhookPort),
    requests: services.openai.requests.slice(before),
    oss: services.oss.counts(),
  };
}

/** The costs of `runs` (each with `warmup` calls first), their measured messages pooled. */
function warmCosts(runs: readonly WarmReply[], warmup: number): WarmCosts {
  const costs: WarmCosts = { overhead: [], billed: [], answerPath: [], totals: [], llmWaits: [], webhookWaits: [], ossPerMessage: 0, chatPerMessage: 0, updatesPerMessage: 0, ossBreakdown: '' };
  const oss: Record<string, number> = {};
  let messages = 0;
  let chats = 0;
  let updates = 0;
  for (const { run, llm, webhook, requests, oss: counts } of runs) {
    const sum = (waits: Wait[][]): number[] => waits.map((own) => own.reduce((total, wait) => total + wait.ms, 0));
    const llmWaits = sum(byMessage(run.startedAt, llm));
    const webhookWaits = sum(byMessage(run.startedAt, webhook));
    const answerPath = answerPathMs(run.startedAt, llm, webhook);
    run.durations.forEach((total, i) => {
      if (i < warmup) return;
      costs.totals.push(total);
      costs.llmWaits.push(llmWaits[i] ?? 0);
      costs.webhookWaits.push(webhookWaits[i] ?? 0);
      costs.overhead.push(total - (llmWaits[i] ?? 0) - (webhookWaits[i] ?? 0));
      costs.billed.push(total - (llmWaits[i] ?? 0));
      costs.answerPath.push(answerPath[i] ?? 0);
    });
    messages += run.durations.length;
    chats += chatRequests(requests).length;
    updates += requests.length - chatRequests(requests).length;
    for (const [operation, count] of Object.entries(counts)) oss[operation] = (oss[operation] ?? 0) + (count ?? 0);
  }
  costs.ossPerMessage = Object.values(oss).reduce((total, count) => total + count, 0) / messages;
  costs.chatPerMessage = chats / messages;
  costs.updatesPerMessage = updates / messages;
  costs.ossBreakdown = JSON.stringify(Object.fromEntries(Object.entries(oss).map(([operation, count]) => [operation, round(count / messages, 2)])));
  return costs;
}

/**
 * Throws unless every chat request of `runs` carried the remembered facts in its system message (memory
 * on), or none of them (memory off): a memory that was not read must not yield a fast figure.
 */
function expectMemoryInPrompts(what: string, runs: readonly WarmReply[], on: boolean): void {
  for (const { requests } of runs) {
    for (const request of chatRequests(requests)) {
      const system = systemMessage(request);
      const carried = REMEMBERED_FACTS.filter((fact) => system.includes(fact));
      if (carried.length !== (on ? REMEMBERED_FACTS.length : 0)) throw new Error(`${what}: a prompt carried ${carried.length} of the ${REMEMBERED_FACTS.length} remembered facts`);
    }
  }
}

/** The picture step's result: the highest peak RSS (MB) and the detail line that describes the runs. */
export interface PictureFigure {
  figure: number;
  peaksMb: number[];
  detail: string;
}

/**
 * The picture step (issue 11): a picture at the size limit (MAX_PICTURE_BYTES) and a follow-up question that
 * resends it, answered by the reply bundle in a fresh process with DINGTALK_CLIENT_ID and VISION_MODEL set;
 * `runs` such processes, since the peak depends on when V8 collects the first message's garbage. Each run
 * must carry the picture's exact bytes to VISION_MODEL twice. `npm run bench -- --picture` runs only this.
 */
export async function measurePicture(
  services: Services,
  runs: number,
  childOptions: Omit<ProcessOptions, 'env'> = {},
  workload = new Workload(services.sink.webhookUrl('bench-picture')),
): Promise<PictureFigure> {
  const picture = sizeLimitPng(MAX_PICTURE_BYTES);
  services.dingtalk.addFile(PICTURE_DOWNLOAD_CODE, picture, 'image/png');
  const users = Array.from({ length: runs }, (_, i) => workload.sender(`erin-${i}`));
  const tasks = await replyTasks(
    services,
    users.flatMap((user) => [workload.picture(user, PICTURE_DOWNLOAD_CODE), ...workload.texts(user, [PICTURE_FOLLOW_UP])]),
    { env: conversationEnv(services), ...childOptions },
  );
  const peaksKb: number[] = [];
  const durations: number[][] = [];
  for (let i = 0; i < runs; i += 1) {
    const run = await warmReply(services, tasks.slice(2 * i, 2 * i + 2), { ...childOptions, env: replyEnv(services, pictureEnv(services)) }, 'reply (picture)');
    expectPictureSentTwice(run.requests, picture, BENCH.visionModel);
    peaksKb.push(run.run.maxRssKb);
    durations.push(run.run.durations);
  }
  const peaksMb = peaksKb.map((kb) => round(kb / 1024, 1));
  const detail = `a ${round(picture.length / 2 ** 20, 2)} MB PNG (the limit, MAX_PICTURE_BYTES), then a follow-up that resends it, in a fresh process with DINGTALK_CLIENT_ID and VISION_MODEL set (memory on), ${runs} times: peak RSS ${peaksMb.map((value) => `${value} MB`).join(', ')}; the first run took ${(durations[0] ?? []).map((duration) => ms(duration)).join(' and ')} (the first with the bundle's load); each chat request carried the picture as a ${round((4 * Math.ceil(picture.length / 3)) / 2 ** 20, 1)} MB data: URL`;
  return { figure: Math.max(...peaksMb), peaksMb, detail };
}

/**
 * Runs every measurement of issue 5 against `services`:
 * 1. the conversation bundle turns the reply phases' callbacks into async payloads (unmeasured);
 * 2. warm ack: one process, sequential signed callbacks, each answered after the invoke reached the FC fake;
 * 3. history: the reply bundle answers three "remember that …" questions (kept in the user's long-term
 *    memory) and `historyExchanges` questions of `questionBytes` (2 KB exchanges);
 * 4. warm reply over that history: total per message minus the LLM fake's and webhook sink's own time,
 *    with MEMORY_ENABLED=false and with the memory on (issue 12), in four runs ordered off, on, on, off
 *    so that drift over the run (the fakes hold more objects) weighs on both alike; with memory on, the
 *    answer path (handler call to the answer's webhook post) against the one with memory off;
 * 4b. one user's conversation of `memoryMessages` messages with the memory on: its update calls;
 * 4c. a picture at the size limit (MAX_PICTURE_BYTES, 5 MB) and a follow-up question that resends it, answered by the reply
 *     bundle in one fresh process with DINGTALK_CLIENT_ID and VISION_MODEL set: its peak RSS (issue 11);
 * 5. cold rounds: bare node, conversation, reply, each a fresh process, in rotating order; the reply
 *    runs with the shipped defaults (HISTORY_LENGTH, MAX_CONTEXT_TOKENS, memory on) like the figures
 *    above, and once more with the memory off, once more with HISTORY_LENGTH=20, whose ~40 KB prompt loads
 *    the tokenizer (detail lines), and once more with AI cards configured (issue 10: the card code must not
 *    cost the cold start much);
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
  // The reply figures describe the shipped configuration: HISTORY_LENGTH and MAX_CONTEXT_TOKENS at their defaults, memory on.
  const reply: ProcessOptions = { env: replyEnv(services), ...childOptions };
  const replyMemoryOff: ProcessOptions = { env: replyEnv(services, MEMORY_OFF), ...childOptions };
  const longPrompt: ProcessOptions = { env: replyEnv(services, { HISTORY_LENGTH: String(LONG_PROMPT_EXCHANGES) }), ...childOptions };
  const replyCards: ProcessOptions = { env: replyEnv(services, cardEnv(services)), ...childOptions };
  const workload = new Workload(services.sink.webhookUrl('bench'));
  const alice = workload.sender('alice');
  const carol = workload.sender('carol');
  const bob = workload.sender('bob');
  const dave = workload.sender('dave');

  // 1. Reply payloads, made by the conversation bundle itself.
  // Four warm runs (memory off, on, on, off), each with its own warm-up and half the measured messages.
  const warmRunCount = plan.replyWarmup + Math.ceil(plan.replyMessages / 2);
  const [seedTasks, offFirstTasks, onFirstTasks, onSecondTasks, offSecondTasks, coldTasks, coldOffTasks, longPromptTasks, cardsColdTasks, turnTasks, memoryTasks] = split(
    await replyTasks(
      services,
      [
        ...workload.texts(alice, REMEMBER_QUESTIONS),
        ...workload.questions(alice, plan.historyExchanges + 4 * warmRunCount + 4 * plan.coldRounds, plan.questionBytes),
        ...workload.randomQuestions(bob, plan.turns),
        ...workload.questions(dave, plan.memoryMessages, plan.questionBytes),
      ],
      conversation,
    ),
    [
      REMEMBER_QUESTIONS.length + plan.historyExchanges,
      ...[1, 2, 3, 4].map(() => warmRunCount),
      ...[1, 2, 3, 4].map(() => plan.coldRounds),
      plan.turns,
      plan.memoryMessages,
    ],
  );

  // 2. Warm ack: ordinary short questions.
  const ack = await runWarm(warmJob(bundlePath('conversation'), workload.questions(carol, plan.ackWarmup + plan.ackRequests, 60), CONVERSATION_CONTEXT), conversation);
  expectOutcomes('conversation (warm ack)', ack, '200');
  const ackTimes = ack.durations.slice(plan.ackWarmup);

  // 3. History: the facts to remember, then 2 KB exchanges.
  expectOutcomes('reply (seeding history)', await runWarm(warmJob(bundlePath('reply'), seedTasks, REPLY_CONTEXT), reply), 'answered');

  // 4. Warm reply overhead, memory off and on, ordered off, on, on, off.
  const offFirst = await warmReply(services, offFirstTasks, replyMemoryOff, 'reply (warm, memory off)');
  const onFirst = await warmReply(services, onFirstTasks, reply, 'reply (warm, memory on)');
  const onSecond = await warmReply(services, onSecondTasks, reply, 'reply (warm, memory on)');
  const offSecond = await warmReply(services, offSecondTasks, replyMemoryOff, 'reply (warm, memory off)');
  expectMemoryInPrompts('reply (warm, memory on)', [onFirst, onSecond], true);
  expectMemoryInPrompts('reply (warm, memory off)', [offFirst, offSecond], false);
  const off = warmCosts([offFirst, offSecond], plan.replyWarmup);
  const on = warmCosts([onFirst, onSecond], plan.replyWarmup);
  for (const [what, costs] of [['memory off', off], ['memory on', on]] as const) {
    if (costs.chatPerMessage !== 1) throw new Error(`reply (warm, ${what}): expected one chat request per message, got ${costs.chatPerMessage}`);
  }
  if (off.updatesPerMessage !== 0) throw new Error('reply (warm, memory off): the memory was updated');
  const measuredCount = off.totals.length;

  // 4b. One user's conversation with the memory on: how many update calls its messages cost.
  const memoryRun = await warmReply(services, memoryTasks, reply, 'reply (memory conversation)');
  const updateCalls = memoryRun.requests.filter((request) => isMemoryUpdate(request.body)).length;
  const memoryOss = Object.values(memoryRun.oss).reduce<number>((sum, count) => sum + (count ?? 0), 0);

  // 4c. A picture at the size limit, then a follow-up that resends it.
  const pictures = await measurePicture(services, plan.pictureRuns, childOptions, workload);

  // 5. Cold starts, each kind in turn going first so drift over the run hits all kinds alike.
  const coldAcks = workload.questions(carol, plan.coldRounds, 60);
  const openApiCallsBefore = services.dingtalk.calls.length;
  const bare: ColdRun[] = [];
  const conversationCold: ColdRun[] = [];
  const replyCold: ColdRun[] = [];
  const replyColdOff: ColdRun[] = [];
  const longPromptCold: ColdRun[] = [];
  const cardsCold: ColdRun[] = [];
  for (let round = 0; round < plan.coldRounds; round += 1) {
    const ackEvent = coldAcks[round] as Buffer;
    const runs = [
      async () => bare.push(await runCold(BARE_HANDLER, ackEvent, CONVERSATION_CONTEXT, { env: {}, ...childOptions })),
      async () => conversationCold.push(await runCold(bundlePath('conversation'), ackEvent, CONVERSATION_CONTEXT, conversation)),
      async () => replyCold.push(await runCold(bundlePath('reply'), coldTasks[round] as Buffer, REPLY_CONTEXT, reply)),
      async () => replyColdOff.push(await runCold(bundlePath('reply'), coldOffTasks[round] as Buffer, REPLY_CONTEXT, replyMemoryOff)),
      async () => longPromptCold.push(await runCold(bundlePath('reply'), longPromptTasks[round] as Buffer, REPLY_CONTEXT, longPrompt)),
      async () => cardsCold.push(await runCold(bundlePath('reply'), cardsColdTasks[round] as Buffer, REPLY_CONTEXT, replyCards)),
    ];
    for (let i = 0; i < runs.length; i += 1) await (runs[(round + i) % runs.length] as () => Promise<number>)();
  }
  expectOutcomes('conversation (cold)', { outcomes: conversationCold.map((run) => String((run.result as { statusCode?: number }).statusCode)) }, '200');
  for (const runs of [replyCold, replyColdOff, longPromptCold, cardsCold]) {
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
  // GB-seconds = seconds × GB: warm invocations, reply as shipped (memory on) without its LLM waits (see the README).
  const gbSeconds = 1000 * ((mean(ackTimes) / 1000) * (conversationSize.memoryMb / 1024) + (mean(on.billed) / 1000) * (replySize.memoryMb / 1024));
  const memoryCalls = `${updateCalls} update calls for ${plan.memoryMessages} messages`;

  const figures: MeasuredFigures = {
    ack_p50_ms: round(percentile(ackTimes, 50), 3),
    ack_p99_ms: round(percentile(ackTimes, 99), 3),
    conversation_cold_ms: round(median(conversationCold.map((run) => run.ms)) - bareMs, 1),
    node_bare_ms: round(bareMs, 1),
    reply_overhead_p50_ms: round(percentile(off.overhead, 50), 2),
    reply_overhead_p99_ms: round(percentile(off.overhead, 99), 2),
    memory_answer_overhead_p50_ms: round(percentile(on.answerPath, 50) - percentile(off.answerPath, 50), 2),
    memory_update_calls_per_message: round(updateCalls / plan.memoryMessages, 2),
    reply_cold_ms: round(median(replyCold.map((run) => run.ms)) - bareMs, 1),
    reply_peak_rss_mb: peakMb(replyCold),
    reply_cards_cold_ms: round(median(cardsCold.map((run) => run.ms)) - bareMs, 1),
    reply_cards_peak_rss_mb: peakMb(cardsCold),
    reply_peak_rss_mb_picture: pictures.figure,
    oss_requests_per_message: round(off.ossPerMessage, 2),
    oss_requests_per_message_memory: round(on.ossPerMessage, 2),
    prompt_tokens_p99: percentile(tokens, 99),
    gb_seconds_per_1000_messages: round(gbSeconds, 4),
    ...streaming.figures,
  };
  const details: Details = {
    repetitions: `ack ${plan.ackRequests} (+${plan.ackWarmup} warm-up), reply ${measuredCount} with memory off and ${on.totals.length} on (two runs each, +${plan.replyWarmup} warm-up per run), ${plan.coldRounds} cold rounds, ${plan.turns} turns, ${plan.memoryMessages} messages of the memory conversation, ${plan.streamMessages} streamed answers per mode`,
    'ack (warm)': `mean ${ms(mean(ackTimes))}, max ${ms(Math.max(...ackTimes))}`,
    'reply (warm)': `MEMORY_ENABLED=false: total p50 ${ms(median(off.totals))}, LLM fake p50 ${ms(median(off.llmWaits))}, webhook sink p50 ${ms(median(off.webhookWaits))}; history ${plan.historyExchanges} exchanges of ${2 * plan.questionBytes} B, HISTORY_LENGTH and MAX_CONTEXT_TOKENS at their defaults`,
    'memory (warm)': `answer path p50 ${ms(median(off.answerPath))} off, ${ms(median(on.answerPath))} on (p99 ${ms(percentile(off.answerPath, 99))} off, ${ms(percentile(on.answerPath, 99))} on); with memory on the whole call minus LLM and webhook waits p50 ${ms(median(on.overhead))}, p99 ${ms(percentile(on.overhead, 99))} (the update after delivery included: ${round(on.updatesPerMessage, 2)} update calls per message, answered with the list unchanged; ${REMEMBERED_FACTS.length} remembered facts in every prompt)`,
    'memory conversation': `one user, HISTORY_LENGTH at its default, memory on: ${memoryCalls} (an exchange is learned once, when it leaves the window), ${round(memoryOss / plan.memoryMessages, 2)} OSS requests per message`,
    'cold medians': `bare ${ms(bareMs)}, conversation ${ms(median(conversationCold.map((run) => run.ms)))}, reply ${ms(median(replyCold.map((run) => run.ms)))} (spawn to answer)`,
    'reply cold, memory off': `${ms(median(replyColdOff.map((run) => run.ms)) - bareMs)} over bare node, peak RSS ${mb(replyColdOff)}: MEMORY_ENABLED=false, so no memory read before the answer and no update call after it`,
    'reply cold, long prompt': `${ms(median(longPromptCold.map((run) => run.ms)) - bareMs)} over bare node, peak RSS ${mb(longPromptCold)}: HISTORY_LENGTH=${LONG_PROMPT_EXCHANGES}, so all ${plan.historyExchanges} exchanges of ${2 * plan.questionBytes} B may go into the prompt; its byte count exceeds MAX_CONTEXT_TOKENS, so the tokenizer loads`,
    'reply cold, cards configured': `${ms(median(cardsCold.map((run) => run.ms)) - bareMs)} over bare node, peak RSS ${mb(cardsCold)}: DINGTALK_CLIENT_ID and DINGTALK_CARD_TEMPLATE_ID set, so the answer streams into a card through the DingTalk OpenAPI fake (no latency): ${cardsColdCalls} OpenAPI calls in turn (token, create, updates, finalize) where the webhook-only answer makes one webhook post`,
    'reply with a picture': pictures.detail,
    'peak RSS': `cold reply ${mb(replyCold)}, cold conversation ${mb(conversationCold)}, bare node ${mb(bare)}, warm reply process (memory on) after ${onSecond.run.durations.length} messages ${round(onSecond.run.maxRssKb / 1024, 1)} MB`,
    'OSS requests (warm reply)': `per message, memory off: ${off.ossBreakdown}; memory on: ${on.ossBreakdown}`,
    'long conversation': `MAX_CONTEXT_TOKENS=${plan.turnsMaxContextTokens}, prompt tokens p50 ${median(tokens)}, max ${Math.max(...tokens)}`,
    'compute per message': `conversation ${ms(mean(ackTimes))} × ${conversationSize.memoryMb} MB + reply ${ms(mean(on.billed))} × ${replySize.memoryMb} MB (memory from s.yaml; reply as shipped, long-term memory on, without LLM waits; ${ms(mean(off.billed))} with it off)`,
    ...streaming.details,
  };
  return { figures, details };
}
