import { MemoryObjectStore } from '../../../../shared/adapters/memory-object-store';
import { parseProbeResult, probeResultKey, PROBE_PROMPT, runReplyProbe } from '../../../../shared/core/reply/probe';
import { parseReplyTask, probeMarker, PROBE_BODY_FIELD, type ReplyTask } from '../../../../shared/core/reply-task';
import { StorageError } from '../../../../shared/errors';
import { captureLogger } from '../../../helpers/capture-logger';
import { errors, ManualClock, ScriptedLlm } from '../../../helpers/ports';

const PREFIX = 'history/';
const ID = '0123456789abcdef0123456789abcdef';

const task = (clock: ManualClock, id = ID): ReplyTask => ({
  v: 1,
  msgId: `probe-${id}`,
  conversationId: 'cid-probe',
  conversationType: '1',
  userId: 'doctor',
  content: { kind: 'text', text: 'deployment probe' },
  truncated: false,
  sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=probe',
  createdAt: clock.now() - 1500,
  receivedAt: clock.now() - 1500,
  probe: { id },
});

/** A store that fails every write, as OSS does without PutObject permission. */
class ReadOnlyStore extends MemoryObjectStore {
  override async put(): Promise<boolean> {
    throw new StorageError('write', 'OSS write failed: AccessDenied (403)', { code: 'AccessDenied', status: 403 });
  }
}

describe('runReplyProbe', () => {
  it('checks the store and the LLM, leaves only its result object, and reports each stage with its time', async () => {
    const clock = new ManualClock();
    const store = new MemoryObjectStore();
    const llm = new ScriptedLlm().answer('ok');
    const { logger, find } = captureLogger();
    const outcome = await runReplyProbe(task(clock), { store, prefix: PREFIX, llm, clock, logger });
    expect(outcome).toMatchObject({ ok: true, saved: true, queueMs: 1500, id: ID });
    expect(outcome.stages.map((stage) => [stage.name, stage.ok])).toEqual([
      ['store', true],
      ['llm', true],
    ]);
    expect(outcome.stages[1]?.detail).toBe('scripted answered "ok", 5 completion tokens');
    expect(llm.prompts).toEqual([[{ role: 'user', content: PROBE_PROMPT }]]);
    // No history, no usage marker: only the result doctor reads.
    expect([...store.objects.keys()]).toEqual([probeResultKey(PREFIX, ID)]);
    const saved = parseProbeResult(store.objects.get(probeResultKey(PREFIX, ID)) ?? Buffer.alloc(0));
    expect(saved).toMatchObject({ v: 1, id: ID, ok: true, stages: outcome.stages });
    expect(find('reply.probe')).toMatchObject({ level: 'info', outcome: 'passed', probe: ID });
  });

  it('reports an LLM failure with its reason, still saving the result', async () => {
    const clock = new ManualClock();
    const store = new MemoryObjectStore();
    const outcome = await runReplyProbe(task(clock), { store, prefix: PREFIX, llm: new ScriptedLlm().answer(errors.badKey()), clock, logger: captureLogger().logger });
    expect(outcome).toMatchObject({ ok: false, saved: true });
    expect(outcome.stages[1]).toMatchObject({ name: 'llm', ok: false, detail: 'the LLM refused the API key: 401' });
  });

  it('reports a store that cannot be written, runs the LLM anyway, and logs that the result could not be saved', async () => {
    const clock = new ManualClock();
    const { logger, find } = captureLogger();
    const outcome = await runReplyProbe(task(clock), { store: new ReadOnlyStore(), prefix: PREFIX, llm: new ScriptedLlm().answer('ok'), clock, logger });
    expect(outcome).toMatchObject({ ok: false, saved: false });
    expect(outcome.stages.map((stage) => [stage.name, stage.ok])).toEqual([
      ['store', false],
      ['llm', true],
    ]);
    expect(outcome.stages[0]?.detail).toMatch(/AccessDenied/);
    expect(find('reply.probe_unsaved')).toBeDefined();
    expect(find('reply.probe')).toMatchObject({ level: 'warn', outcome: 'failed', saved: false });
  });
});

describe('the probe marker and task field', () => {
  it('reads a probe id from a callback body, and nothing from an ordinary one or a malformed marker', () => {
    expect(probeMarker({ msgId: 'x', [PROBE_BODY_FIELD]: { id: ID } })).toEqual({ id: ID });
    expect(probeMarker({ msgId: 'x' })).toBeUndefined();
    expect(probeMarker({ [PROBE_BODY_FIELD]: { id: '../../etc' } })).toBeUndefined();
    expect(probeMarker({ [PROBE_BODY_FIELD]: 'yes' })).toBeUndefined();
  });

  it('carries the probe through the task encoding, and refuses an id that could leave the probes folder', () => {
    const clock = new ManualClock();
    expect(parseReplyTask(JSON.stringify(task(clock))).probe).toEqual({ id: ID });
    expect(() => parseReplyTask(JSON.stringify({ ...task(clock), probe: { id: '../x' } }))).toThrow(/probe\.id/);
    expect(() => probeResultKey(PREFIX, '../../x')).toThrow();
  });
});
