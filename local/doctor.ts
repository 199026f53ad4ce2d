/**
 * Entry point of `npm run doctor` (bundled to dist/local/doctor.js):
 *   npm run doctor                      checks the configuration a deploy would use (doctor-checks.ts)
 *   npm run doctor -- --llm             checks the LLM alone
 *   npm run doctor -- --url <URL>       proves a deployed pair (or npm start) works end to end (doctor-probe.ts)
 *   [--timeout <seconds>]               how long --url waits for the reply function's result (default 120)
 * Exits 0 when every check passed, 1 when one failed, 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '../shared/ports';
import { applyEnvFile, localEnvFiles } from './env-file';
import { renderDoctorTable, runDoctor } from './doctor-checks';
import { isLoopbackUrl, probeDeployment } from './doctor-probe';
import { localSetting } from './local-variables';

/** What the command line asks for. */
interface DoctorArgs {
  llm: boolean;
  url?: string;
  timeoutSeconds?: number;
}

/** Parses the arguments; throws an Error with the usage on a mistake. */
function parseDoctorArgs(argv: readonly string[]): DoctorArgs {
  const usage = 'usage: npm run doctor [-- --llm | -- --url <conversation URL> [--timeout <seconds>]]';
  const args: DoctorArgs = { llm: false };
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    const value = argv[index + 1];
    if (arg === '--llm') args.llm = true;
    else if (arg === '--url' && value !== undefined) {
      if (!/^https?:\/\//.test(value)) throw new Error(`--url must be an http(s) URL\n${usage}`);
      args.url = value;
      index += 1;
    } else if (arg === '--timeout' && value !== undefined && /^\d+$/.test(value)) {
      args.timeoutSeconds = Number(value);
      index += 1;
    } else throw new Error(`unknown argument ${arg ?? ''}\n${usage}`);
  }
  return args;
}

async function main(): Promise<void> {
  let args: DoctorArgs;
  try {
    args = parseDoctorArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const env = process.env;
  // Against npm start, the laptop's settings (.env.local, then .env); otherwise what s deploy reads (.env).
  const local = args.url !== undefined && isLoopbackUrl(args.url);
  for (const file of localEnvFiles(env)) {
    if (local || path.basename(file) !== '.env.local') applyEnvFile(env, path.resolve(file));
  }
  if (args.url !== undefined) {
    process.stdout.write(`Probing ${args.url} (signed message → conversation → FC async invocation → reply → history store)...\n`);
    const report = await probeDeployment({
      url: args.url,
      env,
      dataDir: path.resolve(localSetting(env, 'LOCAL_DATA_DIR')),
      clock: systemClock,
      ...(args.timeoutSeconds !== undefined ? { timeoutMs: args.timeoutSeconds * 1000 } : {}),
    });
    process.stdout.write(renderDoctorTable(report.rows));
    process.exitCode = report.ok ? 0 : 1;
    return;
  }
  let sYaml: string | undefined;
  try {
    sYaml = readFileSync('s.yaml', 'utf8');
  } catch {
    sYaml = undefined;
  }
  const rows = await runDoctor({ env, sYaml, ...(args.llm ? { only: 'llm' as const } : {}) });
  process.stdout.write(renderDoctorTable(rows));
  process.exitCode = rows.some((row) => row.status === 'fail') ? 1 : 0;
}

void main();
