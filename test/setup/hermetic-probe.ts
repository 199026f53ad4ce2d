/**
 * Run only by hermetic-env.test.ts, in a child Jest whose own environment holds a bogus value for every
 * documented variable: checks that the test file and the processes it spawns see none of them.
 * (Not named *.test.ts, so `npm test` does not run it on its own.)
 */
import { execFileSync } from 'node:child_process';
import { documentedNames, isScrubbed } from './hermetic-env';

const leaked = (env: Record<string, string | undefined>): string[] => Object.keys(env).filter((name) => name !== 'LOCAL_ENV_FILES' && isScrubbed(name, documentedNames()));

it('sees none of the developer’s variables, and neither does a process it spawns', () => {
  expect(leaked(process.env)).toEqual([]);
  expect(process.env.LOCAL_ENV_FILES).toBe('none');
  const child = JSON.parse(execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.env))'], { encoding: 'utf8' })) as Record<string, string>;
  expect(leaked(child)).toEqual([]);
  expect(child.LOCAL_ENV_FILES).toBe('none');
  expect(child.HERMETIC_PROBE_MARKER).toBe('kept');
});
