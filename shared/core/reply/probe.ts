/**
 * The reply side of a deployment probe (`npm run doctor -- --url`): the reply function runs the steps
 * of its path that touch the outside world — the history store (write, read, list, delete) and the LLM
 * (a tiny prompt) — without posting to DingTalk, creating history or counting against a limit, and
 * leaves the result under `<HISTORY_PREFIX>probes/<id>.json`, where doctor reads it with the
 * operator's credentials. Pure of any SDK: it talks to the ports only.
 */
import { describeError } from '../../errors';
import type { Clock, LlmClient, Logger, ObjectStore } from '../../ports';
import { PROBE_ID_PATTERN, type ReplyTask } from '../reply-task';

/** One checked step of the reply function's path. */
export interface ProbeStage {
  name: 'store' | 'llm';
  ok: boolean;
  /** How long the step took. */
  ms: number;
  /** What happened, in words; never a secret. */
  detail: string;
}

/** What the reply function leaves for doctor: `<HISTORY_PREFIX>probes/<id>.json`. */
export interface ProbeResult {
  v: 1;
  id: string;
  /** Every stage passed. */
  ok: boolean;
  /** From the conversation function's acceptance to the start of this run (FC's async queue). */
  queueMs: number;
  startedAt: number;
  finishedAt: number;
  stages: ProbeStage[];
}

/** What `runReplyProbe` answers: the result, and whether it could be saved for doctor. */
export interface ProbeOutcome extends ProbeResult {
  saved: boolean;
}

/** What the probe needs: the history store's objects, the LLM, time and the log. */
export interface ReplyProbeDeps {
  store: ObjectStore;
  /** HISTORY_PREFIX. */
  prefix: string;
  llm: LlmClient;
  clock: Clock;
  logger: Logger;
  /** The run's deadline. */
  signal?: AbortSignal;
}

/** The prompt of the LLM stage: small, so the probe costs a few tokens. */
export const PROBE_PROMPT = 'Reply with one word: ok';

/** Where a probe's result lives. Throws on an id that could leave the probes folder. */
export function probeResultKey(prefix: string, id: string): string {
  if (!PROBE_ID_PATTERN.test(id)) throw new Error('not a probe id');
  return `${prefix}probes/${id}.json`;
}

/** A stored result, or undefined when the bytes are not one. */
export function parseProbeResult(bytes: Buffer): ProbeResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const raw = value as Partial<ProbeResult>;
  if (raw.v !== 1 || typeof raw.id !== 'string' || !Array.isArray(raw.stages)) return undefined;
  const stages = raw.stages.filter(
    (stage): stage is ProbeStage =>
      typeof stage === 'object' && stage !== null && (stage.name === 'store' || stage.name === 'llm') && typeof stage.ok === 'boolean' && typeof stage.ms === 'number' && typeof stage.detail === 'string',
  );
  return {
    v: 1,
    id: raw.id,
    ok: raw.ok === true,
    queueMs: typeof raw.queueMs === 'number' ? raw.queueMs : 0,
    startedAt: typeof raw.startedAt === 'number' ? raw.startedAt : 0,
    finishedAt: typeof raw.finishedAt === 'number' ? raw.finishedAt : 0,
    stages,
  };
}

const errorText = (error: unknown): string => String(describeError(error).message);

async function timed(name: ProbeStage['name'], clock: Clock, work: () => Promise<string>): Promise<ProbeStage> {
  const started = clock.now();
  try {
    const detail = await work();
    return { name, ok: true, ms: clock.now() - started, detail };
  } catch (error) {
    return { name, ok: false, ms: clock.now() - started, detail: errorText(error) };
  }
}

/** Writes, reads back, lists and deletes one object under the probes folder: every operation a reply makes. */
async function storeStage(deps: ReplyProbeDeps, id: string): Promise<string> {
  const key = `${deps.prefix}probes/${id}.check`;
  const body = Buffer.from(`deployment probe ${id}; safe to delete\n`, 'utf8');
  await deps.store.put(key, body);
  const read = await deps.store.get(key);
  if (read === undefined || !read.equals(body)) throw new Error(`the object read back from ${deps.store.description} differs from what was written`);
  await deps.store.list(`${deps.prefix}probes/`, 1);
  await deps.store.deleteMany([key]);
  return `${deps.store.description}: wrote, read, listed and deleted ${key}`;
}

async function llmStage(deps: ReplyProbeDeps): Promise<string> {
  const answer = await deps.llm.complete([{ role: 'user', content: PROBE_PROMPT }], deps.signal !== undefined ? { signal: deps.signal } : {});
  const text = Array.from(answer.text.trim()).slice(0, 40).join('');
  const tokens = answer.completionTokens !== undefined ? `, ${answer.completionTokens} completion tokens` : '';
  return `${answer.model} answered "${text}"${tokens}`;
}

/**
 * Runs the probe of `task` (which must carry `probe`): the store stage, then the LLM stage (run even
 * when the store failed, so one probe reports both), then saves the result for doctor. Never throws and
 * never posts: the outcome is logged as `reply.probe` and returned.
 */
export async function runReplyProbe(task: ReplyTask, deps: ReplyProbeDeps): Promise<ProbeOutcome> {
  const id = task.probe?.id ?? '';
  const startedAt = deps.clock.now();
  const log = deps.logger.child({ probe: id });
  if (!PROBE_ID_PATTERN.test(id)) {
    log.warn('reply.probe', { outcome: 'invalid', reason: 'the task carries no valid probe id' });
    return { v: 1, id, ok: false, queueMs: 0, startedAt, finishedAt: startedAt, stages: [], saved: false };
  }
  const stages = [await timed('store', deps.clock, () => storeStage(deps, id)), await timed('llm', deps.clock, () => llmStage(deps))];
  const result: ProbeResult = {
    v: 1,
    id,
    ok: stages.every((stage) => stage.ok),
    queueMs: Math.max(0, startedAt - task.receivedAt),
    startedAt,
    finishedAt: deps.clock.now(),
    stages,
  };
  let saved = true;
  try {
    await deps.store.put(probeResultKey(deps.prefix, id), Buffer.from(JSON.stringify(result), 'utf8'));
  } catch (error) {
    saved = false;
    log.error('reply.probe_unsaved', { error: describeError(error) });
  }
  const fields = { outcome: result.ok ? 'passed' : 'failed', saved, queueMs: result.queueMs, stages: stages.map((stage) => ({ ...stage })) };
  if (result.ok) log.info('reply.probe', fields);
  else log.warn('reply.probe', fields);
  return { ...result, saved };
}
