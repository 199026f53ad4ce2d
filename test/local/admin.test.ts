/**
 * `npm run admin` against a HISTORY_DIR store in a temporary folder, filled by the bot's own code (the reply
 * core, the usage ledger, memory, pictures, limit markers, settings): stats sums, the users listing, a
 * person's history with models, the export, and an erase that leaves nothing of that person in the folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../shared/adapters/fs-object-store';
import { ObjectConversationSettings } from '../../shared/history/conversation-settings';
import { safeSegment } from '../../shared/history/keys';
import { ledgerUserHash } from '../../local/admin-layout';
import { runAdmin } from '../../local/admin-run';
import type { StatsJson } from '../../local/admin-stats';
import type { UserRow } from '../../local/admin-users';
import { createMem0Memory } from '../../shared/adapters/mem0-memory';
import { startMem0Fake } from '../fakes/mem0-fake';
import { ManualClock } from '../helpers/ports';
import { ALICE, BOB, fillStore, GROUP, NOW, ONE_TO_ONE, PNG, recordingIo, type Filled } from './admin-fixture';

let dir: string;
let filled: Filled;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'admin-'));
  filled = await fillStore(createFsObjectStore(dir));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = (): Record<string, string> => ({ HISTORY_DIR: dir, TZ: 'Asia/Shanghai' });

async function admin(argv: string[], answer = false): Promise<{ code: number; stdout: string; stderr: string; questions: string[] }> {
  const io = recordingIo(answer);
  const code = await runAdmin(argv, { env: env(), io, clock: new ManualClock(NOW) });
  return { code, stdout: io.stdout(), stderr: io.stderr(), questions: io.questions };
}

/** Every file and folder under the store's folder, as relative paths, with every file's content. */
function everything(): { paths: string[]; contents: string } {
  const paths: string[] = [];
  let contents = '';
  const visit = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const full = path.join(folder, name);
      paths.push(path.relative(dir, full));
      if (statSync(full).isDirectory()) visit(full);
      else contents += readFileSync(full).toString('latin1');
    }
  };
  visit(dir);
  return { paths, contents };
}

describe('admin stats', () => {
  it('sums questions, people, conversations and tokens per model and per day from the usage ledger', async () => {
    const { code, stdout } = await admin(['stats', '--days', '7', '--json']);
    expect(code).toBe(0);
    const stats = JSON.parse(stdout) as StatsJson;
    const sum = (field: 'promptTokens' | 'completionTokens'): number => filled.asked.reduce((total, item) => total + item[field], 0);
    expect(stats).toMatchObject({
      v: 1,
      from: '2024-11-13',
      to: '2024-11-19',
      timeZone: 'Asia/Shanghai',
      totals: { users: 2, conversations: 2, questions: 4, promptTokens: sum('promptTokens'), completionTokens: sum('completionTokens'), estimatedQuestions: 0 },
    });
    // The group switched to qwen-max with \\model before its two questions; the 1:1 chat kept qwen-plus.
    expect(stats.models).toEqual([
      { model: 'qwen-max', users: 2, questions: 2, promptTokens: 101 + 103, completionTokens: 11 + 13 },
      { model: 'qwen-plus', users: 1, questions: 2, promptTokens: 100 + 102, completionTokens: 10 + 12 },
    ]);
    expect(stats.days).toHaveLength(7);
    expect(stats.days[6]).toEqual({ day: '2024-11-19', users: 2, questions: 4, promptTokens: sum('promptTokens'), completionTokens: sum('completionTokens') });
    expect(stats.days.slice(0, 6).every((day) => day.questions === 0)).toBe(true);
  });

  it('prints the same figures as text', async () => {
    const { code, stdout } = await admin(['stats']);
    expect(code).toBe(0);
    expect(stdout).toContain('4 questions from 2 people in 2 conversations');
    expect(stdout).toMatch(/qwen-max\s+2\s+2\s+204\s+24/);
    expect(stdout).toMatch(/2024-11-19\s+4\s+2/);
  });
});

describe('admin users', () => {
  it('lists each person by staff id with what is stored of them', async () => {
    const { code, stdout } = await admin(['users', '--json']);
    expect(code).toBe(0);
    const { users } = JSON.parse(stdout) as { v: 1; users: UserRow[] };
    // The limit markers' layout is the counters' own (one or more objects per question).
    expect(users).toEqual([
      { user: ALICE, segment: safeSegment(ALICE), conversations: 2, messages: 3, memory: 3, dailyMarkers: expect.any(Number), minuteMarkers: expect.any(Number), pictures: 1, usage: 3 },
      { user: BOB, segment: safeSegment(BOB), conversations: 1, messages: 1, memory: 2, dailyMarkers: expect.any(Number), minuteMarkers: expect.any(Number), pictures: 0, usage: 1 },
    ]);
    for (const row of users) expect(Math.min(row.dailyMarkers, row.minuteMarkers)).toBeGreaterThanOrEqual(row.messages);
  });
});

describe('admin history', () => {
  it('shows a person’s exchanges per conversation with their time and model', async () => {
    const { code, stdout } = await admin(['history', '--user', ALICE]);
    expect(code).toBe(0);
    expect(stdout).toContain('Q: What is tea?');
    expect(stdout).toContain('A: Tea is a drink.');
    // The first question was sent at 07:06:43 UTC: 15:06:43 in Asia/Shanghai.
    expect(filled.asked[0]?.at).toBe(Date.UTC(2024, 10, 19, 7, 6, 43));
    expect(stdout).toMatch(/2024-11-19 15:06:43 {2}qwen-plus\n {4}Q: What is tea\?/);
    expect(stdout).toMatch(/qwen-max\n {4}Q: When do we meet\?/);
    expect(stdout).not.toContain('Hello from Bob');
  });

  it('shows one conversation with --conversation', async () => {
    const { stdout } = await admin(['history', '--user', ALICE, '--conversation', GROUP]);
    expect(stdout).toContain(`conversation ${GROUP}: 1 message`);
    expect(stdout).toContain('When do we meet?');
    expect(stdout).not.toContain('What is tea?');
  });
});

describe('admin export', () => {
  it('writes everything stored about a person as JSON lines, pictures as type and size', async () => {
    const { code, stdout } = await admin(['export', '--user', ALICE]);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const of = (type: string) => lines.filter((line) => line.type === type);
    expect(lines[0]).toMatchObject({ type: 'person', v: 1, userId: ALICE, segment: safeSegment(ALICE) });
    expect(of('exchange').map((line) => line.question).sort()).toEqual(['Capital of France?', 'What is tea?', 'When do we meet?']);
    expect(of('exchange').find((line) => line.question === 'When do we meet?')).toMatchObject({ state: 'answered', answer: 'The group meets on Monday.', model: 'qwen-max' });
    expect(of('memory')).toEqual([expect.objectContaining({ facts: ['Alice likes green tea', 'Alice lives in Paris'] })]);
    expect(of('usage')).toHaveLength(3);
    expect(of('daily-marker').length).toBeGreaterThanOrEqual(3);
    expect(of('minute-marker').length).toBeGreaterThanOrEqual(3);
    expect(of('recent-window')).toHaveLength(2);
    expect(of('picture')).toEqual([expect.objectContaining({ mediaType: 'image/png', bytes: PNG.length })]);
    expect(of('picture')[0]).not.toHaveProperty('base64');
    expect(of('settings')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ conversation: safeSegment(ONE_TO_ONE), system: 'Answer like a pirate.' }),
        expect.objectContaining({ conversation: safeSegment(GROUP), model: 'qwen-max' }),
      ]),
    );
    expect(lines[lines.length - 1]).toMatchObject({ type: 'summary', usageRecords: 3, settingsChanged: 2 });
    expect(stdout).not.toContain('Hello from Bob');
    expect(stdout).not.toContain('Bob runs the team');
  });

  it('adds the pictures’ bytes in base64 with --pictures', async () => {
    const { stdout } = await admin(['export', '--user', ALICE, '--pictures']);
    const picture = stdout.split('\n').map((line) => (line === '' ? {} : (JSON.parse(line) as Record<string, unknown>))).find((line) => line.type === 'picture');
    expect(Buffer.from(String(picture?.base64), 'base64').equals(PNG)).toBe(true);
  });
});

describe('admin delete', () => {
  it('erases everything of a person, says what per kind, and leaves nothing of them in the folder', async () => {
    const { code, stdout } = await admin(['delete', '--user', ALICE, '--yes']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/3 {2}history messages/);
    expect(stdout).toMatch(/2 {2}recent-window objects/);
    expect(stdout).toMatch(/3 {2}long-term memory objects/);
    expect(stdout).toMatch(/1 {2}pictures/);
    expect(stdout).toMatch(/\d+ {2}daily-limit markers/);
    expect(stdout).toMatch(/\d+ {2}per-minute markers/);
    expect(stdout).toMatch(/3 {2}usage records/);
    expect(stdout).toMatch(/1 {2}conversation settings deleted/);
    expect(stdout).toMatch(/1 {2}conversation settings with their name removed/);
    expect(stdout).toContain('Checked: nothing stored about "manager1234" is left');

    const { paths, contents } = everything();
    const traces = [safeSegment(ALICE), ledgerUserHash(ALICE), Buffer.from(ALICE).toString('base64url')];
    expect(paths.filter((entry) => traces.some((trace) => entry.includes(trace)))).toEqual([]);
    for (const text of [ALICE, 'What is tea?', 'Tea is a drink.', 'Alice likes green tea', 'ALICE-PICTURE-BYTES', 'pirate']) expect(contents).not.toContain(text);
    // Bob's data and the group's choice of model stay.
    expect(contents).toContain('Hello from Bob');
    expect(contents).toContain('Bob runs the team');
    const settings = new ObjectConversationSettings(createFsObjectStore(dir), 'history/');
    await expect(settings.read(GROUP)).resolves.toEqual({ model: 'qwen-max' });
    await expect(settings.read(ONE_TO_ONE)).resolves.toEqual({});
    const after = await admin(['stats', '--json']);
    expect((JSON.parse(after.stdout) as StatsJson).totals).toMatchObject({ users: 1, questions: 1 });
  });

  it('asks first and deletes nothing when not confirmed', async () => {
    const before = everything();
    const { code, stderr, questions } = await admin(['delete', '--user', ALICE], false);
    expect(code).toBe(1);
    expect(questions).toEqual(['Erase it? [y/N] ']);
    expect(stderr).toMatch(/3 {2}history messages/);
    expect(stderr).toContain('not confirmed: nothing was deleted');
    expect(everything()).toEqual(before);
  });

  it('deletes after a yes', async () => {
    const { code } = await admin(['delete', '--user', ALICE], true);
    expect(code).toBe(0);
    expect(everything().contents).not.toContain('What is tea?');
  });

  it('erases the person\'s memories in the Mem0 platform too when MEM0_API_KEY is set, and only theirs', async () => {
    const mem0 = await startMem0Fake({ apiKey: 'm0-admin-key' });
    try {
      const memory = createMem0Memory({ apiKey: 'm0-admin-key', baseUrl: mem0.url });
      await memory.remember(ALICE, 'Alice works on payments');
      await memory.remember(BOB, 'Bob runs the team');
      const io = recordingIo(true);
      const code = await runAdmin(['delete', '--user', ALICE, '--yes'], {
        env: { ...env(), MEM0_API_KEY: 'm0-admin-key', MEM0_BASE_URL: mem0.url },
        io,
        clock: new ManualClock(NOW),
      });
      expect(code).toBe(0);
      expect(io.stdout()).toMatch(/1 {2}long-term memories in Mem0/);
      expect(mem0.memoriesOf(ALICE)).toEqual([]);
      expect(mem0.memoriesOf(BOB).map((item) => item.memory)).toEqual(['Bob runs the team']);
      expect(io.stdout()).not.toContain('m0-admin-key');
    } finally {
      await mem0.close();
    }
  });
});

describe('admin errors and help', () => {
  it('says so, with exit code 3, when nothing is stored about the user', async () => {
    for (const command of ['history', 'export', 'delete']) {
      const { code, stderr } = await admin([command, '--user', 'nobody-here', ...(command === 'delete' ? ['--yes'] : [])]);
      expect(code).toBe(3);
      expect(stderr).toContain(`admin ${command}: nothing is stored for user "nobody-here"`);
      expect(stderr).toContain('npm run admin -- users');
    }
  });

  it('says which variables to set when no store is configured', async () => {
    const io = recordingIo();
    const code = await runAdmin(['users'], { env: {}, io, dataDir: path.join(dir, 'no-such-folder') });
    expect(code).toBe(1);
    expect(io.stderr()).toContain('admin users: no history store is configured');
    expect(io.stderr()).toMatch(/→ set OSS_BUCKET .*S3_BUCKET or HISTORY_DIR/);
  });

  it('says so when HISTORY_DIR names no folder', async () => {
    const io = recordingIo();
    const code = await runAdmin(['users'], { env: { HISTORY_DIR: path.join(dir, 'missing') }, io });
    expect(code).toBe(1);
    expect(io.stderr()).toContain(`admin users: folder ${path.join(dir, 'missing')} does not exist`);
  });

  it('reads npm start’s folder when no store is configured and it exists', async () => {
    const io = recordingIo();
    const data = mkdtempSync(path.join(tmpdir(), 'admin-data-'));
    try {
      await fillStore(createFsObjectStore(path.join(data, 'history')));
      const code = await runAdmin(['users'], { env: {}, io, dataDir: data, clock: new ManualClock(NOW) });
      expect(code).toBe(0);
      expect(io.stderr()).toContain('npm start’s folder');
      expect(io.stdout()).toContain(ALICE);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('prints each command’s help with --help, and the overview alone', async () => {
    for (const command of ['stats', 'users', 'history', 'export', 'delete']) {
      const { code, stdout } = await admin([command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`usage: npm run admin -- ${command}`);
    }
    const overview = await admin([]);
    expect(overview.code).toBe(0);
    expect(overview.stdout).toContain('commands:');
  });

  it('refuses wrong arguments with exit code 2 and the usage', async () => {
    for (const argv of [['frobnicate'], ['history'], ['stats', '--days', 'x'], ['users', '--user', ALICE], ['delete', '--user']]) {
      const { code, stderr } = await admin(argv);
      expect(code).toBe(2);
      expect(stderr).toContain('usage: npm run admin');
    }
  });
});
