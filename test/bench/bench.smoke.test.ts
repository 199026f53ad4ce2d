/**
 * Smoke test of `npm run bench`: the quick run completes against the loopback fakes and writes every
 * figure of issues 5, 10, 11 and 12 as JSON. It asserts no timing (the figures depend on the machine); the bench itself
 * fails the run when a bundle does not really answer, so completing means every step did its work.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FIGURE_KEYS } from '../../bench/figures';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

describe('npm run bench -- --quick', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('completes, prints the machine and the table, and writes JSON with exactly the figures of issues 5, 10, 11 and 12', async () => {
    const out = path.join(dir, 'figures.json');
    // --no-build: `npm test` has just built dist/, and other test files read it while this runs.
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'bench', 'run.mjs'), '--quick', '--no-build', '--json', out], {
      cwd: ROOT,
      timeout: 55_000,
      maxBuffer: 4 * 1024 * 1024,
    });
    expect(stdout).toMatch(/^Machine: .+, \d+ cores, .*Node v\d+/m);
    for (const key of FIGURE_KEYS) expect(stdout).toContain(`| \`${key}\` |`);

    const figures = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(figures).sort()).toEqual([...FIGURE_KEYS].sort());
    // Each figure a finite number (a cold figure minus its baseline may dip below 0 on a busy machine).
    const notNumbers = FIGURE_KEYS.filter((key) => !Number.isFinite(figures[key]));
    expect(notNumbers).toEqual([]);
    // Requests are counted by the OSS fake: an ordinary message reads and writes its history, and with the
    // long-term memory on also reads the memory and, after the answer, updates it.
    expect(figures.oss_requests_per_message).toBeGreaterThan(0);
    expect(figures.oss_requests_per_message_memory).toBeGreaterThan(figures.oss_requests_per_message as number);
    // Counted by the LLM fake: the memory conversation's exchanges were learned as they left the window, each once.
    expect(figures.memory_update_calls_per_message).toBeGreaterThan(0);
    expect(figures.memory_update_calls_per_message).toBeLessThanOrEqual(1);
    expect(stdout).toMatch(/memory conversation: one user, .*: \d+ update calls for \d+ messages/);
    // Counted by the DingTalk OpenAPI fake: every streamed answer made a card and updated it.
    expect(figures.card_updates_per_answer).toBeGreaterThan(0);
    expect(figures.openapi_calls_per_message).toBeGreaterThan(figures.card_updates_per_answer as number);
    // The 5 MB picture reached the LLM fake twice (the bench checks its bytes) and its process was measured.
    expect(stdout).toMatch(/reply with a picture: a 5 MB PNG .*peak RSS \d/);
    expect(figures.reply_peak_rss_mb_picture).toBeGreaterThan(0);
    expect(stdout).toMatch(/streaming setup: LLM fake: first token after 800 ms, .*DingTalk OpenAPI fake: \d+ ms latency per call/);
  }, 60_000);
});
