/**
 * The doctor half of `npm run doctor -- --url`, against a stand-in for the conversation function that
 * checks the signature as it does and runs the reply side (runReplyProbe) on a memory store. The whole
 * path through the real bundles is test/local/doctor-probe.e2e.test.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MemoryObjectStore } from '../../shared/adapters/memory-object-store';
import { runReplyProbe } from '../../shared/core/reply/probe';
import { probeMarker, type ReplyTask } from '../../shared/core/reply-task';
import { verifySignature } from '../../shared/dingtalk/signature';
import { systemClock } from '../../shared/ports';
import { probeCallback, runUrlProbe } from '../../local/doctor-probe';
import { listen, readBody, sendJson, type Listener } from '../../local/http-util';
import { captureLogger } from '../helpers/capture-logger';
import { errors, ScriptedLlm } from '../helpers/ports';

const SECRET = 'doctor-probe-secret-0123456789';
const PREFIX = 'history/';

type Behaviour = 'works' | 'old-version' | 'invoke-refused' | 'never-runs' | 'llm-refuses';

/** A conversation function stand-in: 401 without the right signature, then what `behaviour` says. */
async function standIn(behaviour: Behaviour, store: MemoryObjectStore): Promise<Listener> {
  return listen(async (req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.parse((await readBody(req)).toString('utf8')) as Record<string, unknown>;
    try {
      verifySignature({ timestamp: String(req.headers.timestamp), sign: String(req.headers.sign), secret: SECRET, now: Date.now() });
    } catch {
      sendJson(res, 401, { error: 'unauthorized', message: 'signature mismatch' });
      return;
    }
    const probe = probeMarker(body);
    if (behaviour === 'old-version' || probe === undefined) return sendJson(res, 200, {});
    if (behaviour === 'invoke-refused') {
      return sendJson(res, 502, { error: 'invoke_failed', probe: { id: probe.id, invoked: false, error: { message: 'async invocation of dingtalk-llm-reply failed: FC answered 403 AccessDenied' } } });
    }
    sendJson(res, 200, { probe: { id: probe.id, invoked: true, signer: 'acs3', requestId: 'req-1', ms: 12 } });
    if (behaviour === 'never-runs') return;
    const task = { v: 1, msgId: 'm', conversationId: 'c', conversationType: '1', userId: 'u', content: { kind: 'text', text: 'x' }, truncated: false, sessionWebhook: 'https://oapi.dingtalk.com/x', createdAt: Date.now(), receivedAt: Date.now(), probe } as ReplyTask;
    const llm = behaviour === 'llm-refuses' ? new ScriptedLlm().answer(errors.badKey()) : new ScriptedLlm().answer('ok');
    await runReplyProbe(task, { store, prefix: PREFIX, llm, clock: systemClock, logger: captureLogger().logger });
  });
}

let server: Listener | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function probe(behaviour: Behaviour, overrides: { secret?: string; timeoutMs?: number } = {}) {
  const store = new MemoryObjectStore();
  server = await standIn(behaviour, store);
  const report = await runUrlProbe({ url: `${server.url}/`, appSecret: overrides.secret ?? SECRET, store, prefix: PREFIX, clock: systemClock, timeoutMs: overrides.timeoutMs ?? 5000, pollMs: 10 });
  return { report, store, stages: report.rows.map((row) => [row.check, row.status]) };
}

describe('npm run doctor -- --url (doctor half)', () => {
  it('passes every stage when the probe comes back, says which signer FC accepted, and cleans up its result', async () => {
    const { report, store, stages } = await probe('works');
    expect(stages).toEqual([
      ['signature', 'pass'],
      ['invocation', 'pass'],
      ['reply ran', 'pass'],
      ['store', 'pass'],
      ['LLM', 'pass'],
    ]);
    expect(report).toMatchObject({ ok: true, signer: 'acs3' });
    expect(report.rows[1]?.detail).toMatch(/signer acs3 \(ACS3-HMAC-SHA256/);
    expect(report.rows.every((row) => /\d+ ms|\d+(\.\d)? s/.test(row.detail))).toBe(true);
    expect([...store.objects.keys()]).toEqual([]);
  });

  it('names the signature when the secret is not the deployed one', async () => {
    const { report, stages } = await probe('works', { secret: 'another-secret-000000000000' });
    expect(stages).toEqual([['signature', 'fail']]);
    expect(report.rows[0]?.fix).toMatch(/DINGTALK_APP_SECRET/);
  });

  it('names the invocation when FC refused it, with what FC said', async () => {
    const { report, stages } = await probe('invoke-refused');
    expect(stages).toEqual([
      ['signature', 'pass'],
      ['invocation', 'fail'],
    ]);
    expect(report.rows[1]).toMatchObject({ detail: expect.stringMatching(/403 AccessDenied/), fix: expect.stringMatching(/fc:InvokeFunction/) });
  });

  it('says a conversation function that answers like for a message does not know probes', async () => {
    const { report } = await probe('old-version');
    expect(report.rows[1]).toMatchObject({ check: 'invocation', status: 'fail', fix: expect.stringMatching(/redeploy/) });
  });

  it('names the LLM stage when reply could not use it', async () => {
    const { report, stages } = await probe('llm-refuses');
    expect(stages.at(-1)).toEqual(['LLM', 'fail']);
    expect(report.rows.at(-1)).toMatchObject({ detail: expect.stringMatching(/refused the API key/), fix: expect.stringMatching(/OPENAI_API_KEY/) });
  });

  it('says what to check when no result comes back in time', async () => {
    const { report } = await probe('never-runs', { timeoutMs: 50 });
    expect(report.ok).toBe(false);
    expect(report.rows.at(-1)).toMatchObject({ check: 'reply ran', status: 'fail', detail: expect.stringMatching(/no result at history\/probes\/[0-9a-f]{32}\.json/), fix: expect.stringMatching(/reply\.probe/) });
  });

  it('says the URL cannot be reached', async () => {
    const closed = await listen(async () => undefined);
    await closed.close();
    const report = await runUrlProbe({ url: `${closed.url}/`, appSecret: SECRET, store: new MemoryObjectStore(), prefix: PREFIX, clock: systemClock });
    expect(report.rows).toEqual([expect.objectContaining({ check: 'signature', status: 'fail', detail: expect.stringMatching(/could not be reached \(ECONNREFUSED\)/) })]);
  });

  it('sends a DingTalk text callback marked as a probe, whose webhook is a DingTalk URL never posted to', () => {
    const body = probeCallback('0123456789abcdef', 1_700_000_000_000);
    expect(body).toMatchObject({ msgtype: 'text', conversationType: '1', dingtalkLlmProbe: { id: '0123456789abcdef' } });
    expect(String(body.sessionWebhook)).toMatch(/^https:\/\/oapi\.dingtalk\.com\//);
  });
});
