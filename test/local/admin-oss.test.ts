/**
 * `npm run admin` against OSS: the loopback OSS fake through the real ali-oss client, configured with the
 * bot's variables (OSS_BUCKET, OSS_REGION, OSS_ENDPOINT, the access key). Listings of 10 keys make the
 * walk split its prefix, as a bucket with more than 1000 objects does (the fill holds about 60).
 */
import { createOssObjectStore } from '../../shared/adapters/oss-object-store';
import { localDay } from '../../shared/history/daily-usage';
import { safeSegment } from '../../shared/history/keys';
import { UsageLedger } from '../../shared/history/usage-ledger';
import type { ObjectStore } from '../../shared/ports';
import { ledgerUserHash } from '../../local/admin-layout';
import { runAdmin } from '../../local/admin-run';
import type { StatsJson } from '../../local/admin-stats';
import type { UserRow } from '../../local/admin-users';
import { startOssFake, type OssFake } from '../fakes/oss-fake';
import { ManualClock } from '../helpers/ports';
import { ALICE, BOB, fillStore, NOW, recordingIo } from './admin-fixture';

const KEY = { accessKeyId: 'LTAIadminTestKey0001', accessKeySecret: 'admin-test-secret-0123456789abcdef' };
const BUCKET = 'admin-history';

let oss: OssFake;
let store: ObjectStore;
beforeEach(async () => {
  oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [KEY] });
  store = createOssObjectStore({ bucket: BUCKET, region: 'cn-hangzhou', endpoint: oss.url, internal: false, credentials: () => KEY });
});
afterEach(async () => {
  await oss.close();
});

const env = (): Record<string, string> => ({
  OSS_BUCKET: BUCKET,
  OSS_REGION: 'cn-hangzhou',
  OSS_ENDPOINT: oss.url,
  ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.accessKeyId,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.accessKeySecret,
});

async function admin(argv: string[], variables: Record<string, string> = env()): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = recordingIo();
  const code = await runAdmin(argv, { env: variables, io, page: 10, clock: new ManualClock(NOW) });
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('admin over OSS', () => {
  it('finds every object when listings must be split, and erases one person without touching the other', async () => {
    await fillStore(store);
    expect(oss.objects.size).toBeGreaterThan(25);
    oss.resetCounts();
    const users = await admin(['users', '--json']);
    // One listing of 10 cannot hold them all: the walk split its prefix (and found every object, below).
    expect(oss.counts().ListObjectsV2 ?? 0).toBeGreaterThan(5);
    expect(users.stderr).not.toContain('admin users:');
    expect(users.code).toBe(0);
    const rows = (JSON.parse(users.stdout) as { users: UserRow[] }).users;
    expect(rows.map((row) => [row.user, row.messages, row.memory, row.usage])).toEqual([
      [ALICE, 3, 3, 3],
      [BOB, 1, 2, 1],
    ]);

    const bobBefore = [...oss.objects.keys()].filter((key) => key.includes(safeSegment(BOB)) || key.includes(ledgerUserHash(BOB)));
    const erased = await admin(['delete', '--user', ALICE, '--yes']);
    expect(erased.code).toBe(0);
    expect(erased.stdout).toContain('Checked: nothing stored about "manager1234" is left');
    const traces = [safeSegment(ALICE), ledgerUserHash(ALICE)];
    expect([...oss.objects.keys()].filter((key) => traces.some((trace) => key.includes(trace)))).toEqual([]);
    const bodies = [...oss.objects.values()].map((object) => object.body.toString('latin1')).join('\n');
    expect(bodies).not.toContain(ALICE);
    expect(bodies).not.toContain('What is tea?');
    expect([...oss.objects.keys()].filter((key) => key.includes(safeSegment(BOB)) || key.includes(ledgerUserHash(BOB)))).toEqual(bobBefore);
  });

  it('sums 20 questions recorded at once', async () => {
    const clock = new ManualClock(NOW);
    const ledger = new UsageLedger(store, 'history/', { clock });
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        ledger.record({
          userId: `user-${index % 4}`,
          conversationId: `cid-${index % 2}`,
          day: localDay(NOW, 'Asia/Shanghai'),
          at: NOW - index * 1000,
          messageName: `msg-${index}`,
          promptTokens: 100,
          completionTokens: index,
          model: index % 5 === 0 ? 'qwen-max' : 'qwen-plus',
          durationMs: 1000,
        }),
      ),
    );
    const { code, stdout } = await admin(['stats', '--days', '1', '--json']);
    expect(code).toBe(0);
    const stats = JSON.parse(stdout) as StatsJson;
    expect(stats.totals).toEqual({ users: 4, conversations: 2, questions: 20, promptTokens: 2000, completionTokens: 190, estimatedQuestions: 0 });
    expect(stats.models).toEqual([
      { model: 'qwen-plus', users: 4, questions: 16, promptTokens: 1600, completionTokens: 190 - (0 + 5 + 10 + 15) },
      { model: 'qwen-max', users: 4, questions: 4, promptTokens: 400, completionTokens: 30 },
    ]);
    expect(stats.days).toEqual([{ day: '2024-11-19', users: 4, questions: 20, promptTokens: 2000, completionTokens: 190 }]);
  });

  it('asks for an access key when OSS_BUCKET has none, and never prints the secret', async () => {
    const { ALIBABA_CLOUD_ACCESS_KEY_ID: _id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: _secret, ...variables } = env();
    void [_id, _secret];
    const missing = await admin(['users'], variables);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no access key to read it with');
    expect(missing.stderr).toContain('ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET');

    const wrong = await admin(['users'], { ...env(), ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret-0123456789abcdef' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/admin users: OSS bucket admin-history .*SignatureDoesNotMatch/);
    expect(wrong.stderr).toContain('→ check the access key secret');
    for (const output of [missing, wrong]) expect(`${output.stdout}${output.stderr}`).not.toContain(KEY.accessKeySecret);
    expect(wrong.stderr).not.toContain('not-the-secret-0123456789abcdef');
  });

  it('says the bucket could not be reached, with what to check', async () => {
    await oss.close();
    const { code, stderr } = await admin(['stats']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/could not be reached \(ECONNREFUSED\)/);
    expect(stderr).toContain('→ check OSS_REGION and OSS_ENDPOINT');
    oss = await startOssFake({ bucket: BUCKET, region: 'oss-cn-hangzhou', credentials: [KEY] });
  });
});
