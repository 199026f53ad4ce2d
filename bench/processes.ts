import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HostReply, HostRequest } from './handler-host';
import type { WarmJob, WarmResult } from './warm-driver';

/** How a child process runs. */
export interface ProcessOptions {
  /** Variables of the child, besides PATH: the function's configuration, nothing from this shell. */
  env: Record<string, string>;
  /** When set, children run with `--cpu-prof` and write their profiles there. */
  profileDir?: string;
  /** Extra node flags, e.g. `--max-old-space-size=96` to hold the heap to what a small FC instance has. */
  nodeFlags?: string[];
}

/** What one cold run reported. */
export interface ColdRun {
  /** Spawn to the answer arriving, in ms (node start-up included; the bench subtracts the baseline). */
  ms: number;
  result: unknown;
  /** Peak resident set of the child, in KB (VmHWM; see cold-runner.cjs). */
  maxRssKb: number;
  /** How long the child's `require` of the module took, in ms (part of `ms`). */
  loadMs: number;
}

/** Plain CommonJS in bench/ (the launcher pins `__dirname` to the source folder). */
const COLD_RUNNER = path.join(__dirname, 'cold-runner.cjs');
/** The launcher bundles warm-driver.ts and handler-host.ts beside main.js, the script this process runs. */
const WARM_DRIVER = path.join(path.dirname(process.argv[1] ?? '.'), 'warm-driver.js');
const HANDLER_HOST = path.join(path.dirname(process.argv[1] ?? '.'), 'handler-host.js');
const MARKER = 'BENCH_RESULT ';
const CHILD_TIMEOUT_MS = 60_000;

const scratch = mkdtempSync(path.join(os.tmpdir(), 'dingtalk-llm-bench-'));
let files = 0;

/** Writes `content` to a new file in the run's scratch folder and returns its path. */
export function scratchFile(name: string, content: string | Buffer): string {
  files += 1;
  const file = path.join(scratch, `${files}-${name}`);
  writeFileSync(file, content);
  return file;
}

function nodeArgs(options: ProcessOptions): string[] {
  const profile = options.profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  return [...profile, ...(options.nodeFlags ?? [])];
}

function childEnv(options: ProcessOptions): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...options.env };
}

/**
 * Runs one fresh `node` that loads `module` and answers `event` (see cold-runner.cjs). The clock runs
 * from just before the spawn until the child's result line arrives, so process exit is not counted.
 */
export function runCold(module: string, event: Buffer, context: Record<string, unknown>, options: ProcessOptions): Promise<ColdRun> {
  const eventFile = scratchFile('event.bin', event);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs(options), COLD_RUNNER, module, eventFile, JSON.stringify(context)], {
      env: childEnv(options),
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let stderr = '';
    let settled = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const arrived = performance.now();
      stderr += chunk;
      const line = stderr.split('\n').find((candidate) => candidate.startsWith(MARKER) && stderr.includes(`${candidate}\n`));
      if (line === undefined || settled) return;
      settled = true;
      const report = JSON.parse(line.slice(MARKER.length)) as { result?: unknown; error?: string; maxRssKb: number; loadMs?: number };
      if (report.error !== undefined) reject(new Error(`cold run of ${module} failed: ${report.error}`));
      else resolve({ ms: arrived - started, result: report.result, maxRssKb: report.maxRssKb, loadMs: report.loadMs ?? 0 });
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (!settled) reject(new Error(`cold run of ${module} exited with ${String(code)} without a result:\n${stderr}`));
    });
  });
}

/** Runs a warm job in a fresh process (see warm-driver.ts) and returns what it measured. */
export function runWarm(job: WarmJob, options: ProcessOptions): Promise<WarmResult> {
  const jobFile = scratchFile('job.json', JSON.stringify(job));
  const resultFile = path.join(scratch, `${files}-result.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs(options), WARM_DRIVER, jobFile, resultFile], {
      env: childEnv(options),
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: CHILD_TIMEOUT_MS * 5,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`warm run of ${job.module} exited with ${String(code)}:\n${stderr}`));
        return;
      }
      resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as WarmResult);
    });
  });
}

/** A handler module kept running in a child process (see handler-host.ts). */
export interface HandlerHost {
  /** Hands `event` to the handler; resolves with when it was called (epoch ms) and what it returned. */
  call(event: Buffer): Promise<HostReply>;
  /** Ends the process (a call still running is refused). */
  close(): Promise<void>;
}

/**
 * Starts a {@link HandlerHost} for `module`, called with `context`; resolves once it takes events. With
 * `preload` the module is loaded first (a warm instance), otherwise on the first event (a fresh one).
 */
export function startHandlerHost(module: string, context: Record<string, unknown>, options: ProcessOptions & { preload?: boolean }): Promise<HandlerHost> {
  const child = spawn(process.execPath, [...nodeArgs(options), HANDLER_HOST, module, ...(options.preload === true ? ['--preload'] : [])], {
    env: childEnv(options),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const pending = new Map<number, { resolve: (reply: HostReply) => void; reject: (error: Error) => void }>();
  let calls = 0;
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const host: HandlerHost = {
    call(event) {
      calls += 1;
      const request: HostRequest = { id: calls, event: event.toString('base64'), context };
      return new Promise<HostReply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${module}: no answer within ${CHILD_TIMEOUT_MS} ms`)), CHILD_TIMEOUT_MS);
        const settle = <T>(then: (value: T) => void) => (value: T): void => {
          clearTimeout(timer);
          pending.delete(request.id);
          then(value);
        };
        pending.set(request.id, { resolve: settle(resolve), reject: settle(reject) });
        child.send(request);
      });
    },
    async close() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
  return new Promise<HandlerHost>((resolve, reject) => {
    child.on('message', (message: HostReply | { ready: true }) => {
      if ('ready' in message) resolve(host);
      else pending.get(message.id)?.resolve(message);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const error = new Error(`handler host of ${module} exited with ${String(code)}:\n${stderr}`);
      for (const waiting of [...pending.values()]) waiting.reject(error);
      reject(error);
    });
  });
}

/** The scratch folder of this run (events, jobs and results), for the end-of-run clean-up. */
export const scratchDir = scratch;
