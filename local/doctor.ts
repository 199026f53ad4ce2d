/** Entry point of `npm run doctor` (bundled to dist/local/doctor.js): see doctor-checks.ts. */
import { readFileSync } from 'node:fs';
import { applyLocalEnvFiles } from './env-file';
import { renderDoctorTable, runDoctor } from './doctor-checks';

async function main(): Promise<void> {
  applyLocalEnvFiles(process.env);
  let sYaml: string | undefined;
  try {
    sYaml = readFileSync('s.yaml', 'utf8');
  } catch {
    sYaml = undefined;
  }
  const rows = await runDoctor({ env: process.env, sYaml });
  process.stdout.write(renderDoctorTable(rows));
  process.exitCode = rows.some((row) => row.status === 'fail') ? 1 : 0;
}

void main();
