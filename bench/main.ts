/**
 * `npm run bench [-- --quick] [--json FILE] [--build | --no-build] [--profile DIR] [--node-flag F] [--readme] [--check]`: measures
 * what the bot itself costs around the LLM (issue 5), on loopback against the local fakes, and prints the
 * machine and a table of figures with their goals.
 *
 * - `--quick` runs every step with few repetitions (the smoke test uses it; its timings are not stable).
 * - `--json FILE` also writes the figures as JSON, with exactly the keys of {@link FIGURE_KEYS}.
 * - dist/ is rebuilt first when it is missing or older than the sources; `--build` always rebuilds,
 *   `--no-build` never does (it only warns), for runs beside other work that reads dist/.
 * - `--profile DIR` runs every child with `node --cpu-prof` and leaves the profiles in DIR (timings then
 *   include the profiler's overhead).
 * - `--node-flag F` (repeatable) passes a flag to every measured node process, e.g.
 *   `--node-flag=--max-old-space-size=96` to see the reply within a small instance's heap.
 * - `--readme` rewrites the table in the README's "Performance and cost" section with this run.
 * - `--check` exits with 1 when a goal is missed.
 * - `--baseline DIR [--rounds N]` measures only the reply's cold start and peak RSS against the build in DIR
 *   (another checkout with its own dist/), N interleaved rounds (default 30); see compare.ts.
 * - `--picture [--rounds N]` measures only `reply_peak_rss_mb_picture` (a picture at the size limit and its
 *   follow-up), N fresh processes (default 3, as in the full run), each peak printed, against its goal.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compareWithBaseline } from './compare';
import { buildDist, bundleKb, bundlePath, deployedKb, distIsStale, ROOT } from './dist';
import { FIGURE_KEYS, figuresTable, missedGoals, PICTURE_RSS_GOAL_MB, type Figures } from './figures';
import { describeMachine, machineLine } from './machine';
import { measure, measurePicture, type Details } from './measure';
import { writeReadmeBlock } from './readme';
import { scratchDir } from './processes';
import { readFunctionSizing } from './s-yaml-sizing';
import { startServices } from './services';
import { round } from './stats';
import { FULL_PLAN, QUICK_PLAN } from './workload';

interface Args {
  quick: boolean;
  json?: string;
  build: 'always' | 'never' | 'when-stale';
  profileDir?: string;
  nodeFlags: string[];
  check: boolean;
  readme: boolean;
  baseline?: string;
  picture: boolean;
  rounds?: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, build: 'when-stale', check: false, readme: false, nodeFlags: [], picture: false };
  for (let i = 0; i < argv.length; i += 1) {
    const [arg, inline] = (argv[i] ?? '').split(/=(.*)/s) as [string, string | undefined];
    const value = (): string => {
      const next = inline ?? argv[(i += 1)];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') args.quick = true;
    else if (arg === '--json') args.json = path.resolve(value());
    else if (arg === '--build') args.build = 'always';
    else if (arg === '--no-build') args.build = 'never';
    else if (arg === '--profile') args.profileDir = path.resolve(value());
    else if (arg === '--node-flag') args.nodeFlags.push(value());
    else if (arg === '--check') args.check = true;
    else if (arg === '--readme') args.readme = true;
    else if (arg === '--baseline') args.baseline = path.resolve(value());
    else if (arg === '--picture') args.picture = true;
    else if (arg === '--rounds') args.rounds = Number(value());
    else throw new Error(`unknown argument ${arg} (see bench/main.ts)`);
  }
  if (args.readme && args.quick) throw new Error('--readme takes a full run, not --quick');
  if (args.rounds !== undefined && (!Number.isInteger(args.rounds) || args.rounds < 1)) throw new Error('--rounds takes a whole number of at least 1');
  if (args.baseline !== undefined && (args.readme || args.json !== undefined)) throw new Error('--baseline prints a comparison only: no --readme or --json');
  if (args.picture && (args.baseline !== undefined || args.readme || args.json !== undefined || args.quick)) throw new Error('--picture runs the picture step alone: no --baseline, --readme, --json or --quick');
  return args;
}

function printDetails(details: Details): void {
  console.log('\nDetails');
  for (const [name, value] of Object.entries(details)) console.log(`  ${name}: ${value}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = args.quick ? QUICK_PLAN : FULL_PLAN;
  const machine = describeMachine();
  console.log(`Machine: ${machineLine(machine)}`);
  if (args.build === 'always' || (args.build === 'when-stale' && distIsStale())) buildDist();
  else if (distIsStale()) console.warn('warning: dist/ is older than the sources; run `npm run build` for current figures');
  if (args.nodeFlags.length > 0) console.log(`node flags of the measured processes: ${args.nodeFlags.join(' ')}`);
  if (args.profileDir !== undefined) console.warn(`profiling into ${args.profileDir}: timings include the profiler's overhead`);
  if (args.quick) console.warn('--quick: few repetitions, the timings are not stable');

  if (args.baseline !== undefined) {
    const services = await startServices();
    try {
      const options = { ...(args.profileDir !== undefined ? { profileDir: args.profileDir } : {}), nodeFlags: args.nodeFlags };
      console.log((await compareWithBaseline(services, args.baseline, args.rounds ?? 30, options)).join('\n'));
    } finally {
      await services.close();
      rmSync(scratchDir, { recursive: true, force: true });
    }
    return;
  }

  if (args.picture) {
    const services = await startServices();
    try {
      const options = { ...(args.profileDir !== undefined ? { profileDir: args.profileDir } : {}), nodeFlags: args.nodeFlags };
      const picture = await measurePicture(services, args.rounds ?? FULL_PLAN.pictureRuns, options);
      console.log(`reply_peak_rss_mb_picture: ${picture.figure} MB (goal ≤ ${PICTURE_RSS_GOAL_MB} MB)\n  ${picture.detail}`);
      if (args.check && picture.figure > PICTURE_RSS_GOAL_MB) process.exitCode = 1;
    } finally {
      await services.close();
      rmSync(scratchDir, { recursive: true, force: true });
    }
    return;
  }

  const sizing = readFunctionSizing(path.join(ROOT, 's.yaml'), ['conversation', 'reply']);
  const services = await startServices();
  let measured;
  try {
    measured = await measure(services, plan, sizing, {
      ...(args.profileDir !== undefined ? { profileDir: args.profileDir } : {}),
      nodeFlags: args.nodeFlags,
    });
  } finally {
    await services.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
  const figures: Figures = {
    ...measured.figures,
    bundle_conversation_kb: round(bundleKb('conversation'), 1),
    bundle_reply_kb: round(bundleKb('reply'), 1),
  };
  const details: Details = {
    ...measured.details,
    bundles: `${path.relative(ROOT, bundlePath('conversation'))} and ${path.relative(ROOT, bundlePath('reply'))}; whole folders as deployed (source maps and the lazily loaded tokenizer included): conversation ${round(deployedKb('conversation'), 1)} KB, reply ${round(deployedKb('reply'), 1)} KB`,
  };

  const table = figuresTable(figures, plan.turnsMaxContextTokens);
  console.log(`\n${table}`);
  printDetails(details);
  if (args.json !== undefined) {
    const ordered = Object.fromEntries(FIGURE_KEYS.map((key) => [key, figures[key]]));
    writeFileSync(args.json, `${JSON.stringify(ordered, null, 2)}\n`);
    console.log(`\nwrote ${args.json}`);
  }
  if (args.readme) {
    const when = new Date().toISOString().slice(0, 10);
    writeReadmeBlock(path.join(ROOT, 'README.md'), `Measured ${when} on ${machineLine(machine)}:\n\n${table}`);
    console.log('\nupdated the table in README.md');
  }
  const missed = missedGoals(figures, plan.turnsMaxContextTokens);
  if (missed.length > 0) console.log(`\nmissed goals: ${missed.join(', ')}`);
  if (args.check && missed.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 2;
});
