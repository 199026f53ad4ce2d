/**
 * `npm run bench -- --baseline DIR [--rounds N]`: the reply's cold start and peak RSS against another build of
 * the project (issue 10: the new code may not cost more than 10 %). DIR is a checkout of an earlier commit with
 * its own dist/ built (`git archive <commit> | tar -x -C DIR`, node_modules linked, `node scripts/build.mjs`).
 *
 * Both builds answer the same kind of message, each from a reply task made by its own conversation bundle and
 * over a history of its own making (20 exchanges of 2 KB, like the main cold figures), in fresh processes
 * interleaved round by round with the bare-node baseline, in rotating order, so drift and load hit every kind
 * alike. This build runs as shipped (long-term memory on), with the memory off, and with AI cards configured;
 * the baseline with its defaults. Prints the medians over bare node (the whole run, and until the answer reached
 * the webhook: the memory updates after it), the bundles' `require` time, peak RSS,
 * and each kind of this build against the baseline.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expectCount, expectOutcomes } from './checks';
import { bundlePath } from './dist';
import { MEMORY_OFF } from './memory';
import { runCold, runWarm, type ColdRun, type ProcessOptions } from './processes';
import { BENCH, cardEnv, conversationEnv, handlerContext, replyEnv, type Services } from './services';
import { median, percentile, round } from './stats';
import { Workload } from './workload';

const BARE_HANDLER = path.join(__dirname, 'bare-handler.cjs');
const CONVERSATION_CONTEXT = handlerContext('dingtalk-llm-conversation');
const REPLY_CONTEXT = handlerContext(BENCH.replyFunction);
/** Exchanges in each user's history before the cold runs, and the bytes of each question (as in the main run). */
const HISTORY_EXCHANGES = 20;
const QUESTION_BYTES = 1024;

/** One kind of cold run: which bundle, with what configuration, for which user's tasks. */
interface Kind {
  name: string;
  reply: string;
  options: ProcessOptions;
  tasks: Buffer[];
  runs: ColdRun[];
  /** The session of the kind's own webhook, so its answers can be told apart at the sink. */
  session: string;
  /** Wall-clock ms when each run was spawned. */
  spawnedAt: number[];
  /** Whether the answer goes to the session webhook (not into a card). */
  webhook: boolean;
}

/** The reply tasks the conversation bundle `conversationBundle` makes of `events`, as the FC fake received them. */
async function tasksFrom(services: Services, conversationBundle: string, events: Buffer[], options: ProcessOptions): Promise<Buffer[]> {
  const before = services.fc.invocations.length;
  const run = await runWarm({ module: conversationBundle, events: events.map((event) => event.toString('base64')), context: CONVERSATION_CONTEXT }, options);
  expectOutcomes('conversation (reply tasks)', run, '200');
  const payloads = services.fc.invocations.slice(before).map((invocation) => invocation.payload);
  expectCount('async invocations', payloads, events.length);
  return payloads;
}

const ms = (value: number): string => `${round(value, 1)} ms`;
const mbOf = (kb: number): number => round(kb / 1024, 1);

/**
 * Spawn to the answer reaching the webhook sink, per run of a webhook kind (the sink's clock is `Date.now()`):
 * what a user waits for, without what the reply does after the answer (the long-term memory's update).
 */
function answeredMs(services: Services, kind: Kind): number[] {
  const posts = services.sink.messages.filter((message) => message.session === kind.session);
  return kind.spawnedAt.map((spawned, i) => {
    const post = posts.find((message) => message.receivedAt >= spawned && (kind.spawnedAt[i + 1] === undefined || message.receivedAt < (kind.spawnedAt[i + 1] as number)));
    if (post === undefined) throw new Error(`${kind.name}: cold run ${i + 1} posted no answer`);
    return post.receivedAt - spawned;
  });
}

/** Median, p25 and p75 over bare node, load time and peak RSS of one kind's runs. */
function describe(kind: Kind, bareMs: number, answered?: number[]): { coldMs: number; loadMs: number; peakMb: number; medianRssMb: number; answerMs?: number; line: string } {
  const over = kind.runs.map((run) => run.ms - bareMs);
  const coldMs = median(over);
  const loadMs = median(kind.runs.map((run) => run.loadMs));
  const peakMb = mbOf(Math.max(...kind.runs.map((run) => run.maxRssKb)));
  const medianRssMb = mbOf(median(kind.runs.map((run) => run.maxRssKb)));
  const answerMs = answered !== undefined ? median(answered) - bareMs : undefined;
  const answer = answerMs !== undefined ? `, answer posted ${ms(answerMs)} over bare` : '';
  const line = `${kind.name}: cold ${ms(coldMs)} over bare (p25 ${ms(percentile(over, 25))}, p75 ${ms(percentile(over, 75))})${answer}, require ${ms(loadMs)}, peak RSS max ${peakMb} MB, median ${medianRssMb} MB`;
  return { coldMs, loadMs, peakMb, medianRssMb, ...(answerMs !== undefined ? { answerMs } : {}), line };
}

/** Runs the comparison against the build in `baselineRoot` and returns the lines to print. */
export async function compareWithBaseline(services: Services, baselineRoot: string, rounds: number, childOptions: Omit<ProcessOptions, 'env'> = {}): Promise<string[]> {
  const baselineReply = path.join(baselineRoot, 'dist', 'reply', 'index.js');
  const baselineConversation = path.join(baselineRoot, 'dist', 'conversation', 'index.js');
  for (const file of [baselineReply, baselineConversation]) if (!existsSync(file)) throw new Error(`${file} is missing: build the baseline first (node scripts/build.mjs in ${baselineRoot})`);
  const conversation: ProcessOptions = { env: conversationEnv(services), ...childOptions };
  const workload = new Workload(services.sink.webhookUrl('bench-compare'));
  const makeKind = (name: string, reply: string, env: Record<string, string>, webhook: boolean, i: number): Kind => ({
    name,
    reply,
    options: { env, ...childOptions },
    tasks: [],
    runs: [],
    session: `bench-compare-${i}`,
    spawnedAt: [],
    webhook,
  });
  const kinds: Kind[] = [
    makeKind('baseline reply', baselineReply, replyEnv(services), true, 0),
    makeKind('reply (as shipped, memory on)', bundlePath('reply'), replyEnv(services), true, 1),
    makeKind('reply, memory off', bundlePath('reply'), replyEnv(services, MEMORY_OFF), true, 2),
    makeKind('reply, cards configured', bundlePath('reply'), replyEnv(services, cardEnv(services)), false, 3),
  ];
  for (const [i, kind] of kinds.entries()) {
    const user = workload.sender(`compare-${i}`, services.sink.webhookUrl(kind.session));
    const conversationBundle = kind.reply === baselineReply ? baselineConversation : bundlePath('conversation');
    const tasks = await tasksFrom(services, conversationBundle, workload.questions(user, HISTORY_EXCHANGES + rounds, QUESTION_BYTES), conversation);
    // The history first, answered warm by the same build (its own storage format), then one task per round.
    const seed = await runWarm({ module: kind.reply, events: tasks.slice(0, HISTORY_EXCHANGES).map((task) => task.toString('base64')), context: REPLY_CONTEXT }, kind.options);
    expectOutcomes(`${kind.name} (seeding history)`, seed, 'answered');
    kind.tasks = tasks.slice(HISTORY_EXCHANGES);
  }
  const acks = workload.questions(workload.sender('compare-bare'), rounds, 60);
  const bare: ColdRun[] = [];
  for (let r = 0; r < rounds; r += 1) {
    const runs = [
      async (): Promise<void> => void bare.push(await runCold(BARE_HANDLER, acks[r] as Buffer, CONVERSATION_CONTEXT, { env: {}, ...childOptions })),
      ...kinds.map((kind) => async (): Promise<void> => {
        kind.spawnedAt.push(Date.now());
        kind.runs.push(await runCold(kind.reply, kind.tasks[r] as Buffer, REPLY_CONTEXT, kind.options));
      }),
    ];
    for (let i = 0; i < runs.length; i += 1) await (runs[(r + i) % runs.length] as () => Promise<void>)();
  }
  for (const kind of kinds) {
    expectOutcomes(kind.name, { outcomes: kind.runs.map((run) => String((run.result as { outcome?: string }).outcome)) }, 'answered');
  }
  const bareMs = median(bare.map((run) => run.ms));
  const described = kinds.map((kind) => describe(kind, bareMs, kind.webhook ? answeredMs(services, kind) : undefined));
  const base = described[0] as ReturnType<typeof describe>;
  const ratio = (value: number, of: number): string => `${round((100 * value) / of - 100, 1)} %`;
  return [
    `Baseline: ${baselineRoot}; ${rounds} rounds, each kind a fresh process per round, in rotating order`,
    `bare node: median ${ms(bareMs)} (spawn to answer)`,
    ...described.map((entry) => `  ${entry.line}`),
    'Against the baseline (goal: at most +10 %):',
    ...described.slice(1).map(
      (entry, i) =>
        `  ${kinds[i + 1]?.name ?? ''}: cold ${ratio(entry.coldMs, base.coldMs)}${entry.answerMs !== undefined && base.answerMs !== undefined ? `, answer posted ${ratio(entry.answerMs, base.answerMs)}` : ''}, require ${ratio(entry.loadMs, base.loadMs)}, peak RSS ${ratio(entry.peakMb, base.peakMb)} (median RSS ${ratio(entry.medianRssMb, base.medianRssMb)})`,
    ),
  ];
}
