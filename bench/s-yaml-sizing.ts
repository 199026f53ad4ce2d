import { readFileSync } from 'node:fs';

/** Memory (MB) and timeout (s) of one function as s.yaml deploys it. */
export interface FunctionSizing {
  memoryMb: number;
  timeoutS: number;
}

/**
 * Reads `memorySize` and `timeout` of each resource under `resources:` in s.yaml, so the cost figure
 * follows the file instead of numbers copied into the bench. A line-based reader is enough for these
 * two plain scalars (s.yaml writes them as literal numbers); it throws when a function lacks either,
 * rather than guessing a default.
 */
export function readFunctionSizing(sYamlPath: string, names: readonly string[]): Record<string, FunctionSizing> {
  const found: Record<string, Partial<FunctionSizing>> = {};
  let inResources = false;
  let current: string | undefined;
  for (const line of readFileSync(sYamlPath, 'utf8').split('\n')) {
    if (line.trimStart().startsWith('#') || line.trim() === '') continue;
    if (/^\S/.test(line)) {
      inResources = line.startsWith('resources:');
      current = undefined;
      continue;
    }
    if (!inResources) continue;
    const resource = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (resource) {
      current = resource[1];
      continue;
    }
    // resources.<name>.props.<key>: six spaces deep, so a nested `timeout` elsewhere never matches.
    const scalar = /^ {6}(memorySize|timeout):\s*(\d+)\s*$/.exec(line);
    if (current !== undefined && scalar) {
      const entry = (found[current] ??= {});
      if (scalar[1] === 'memorySize') entry.memoryMb = Number(scalar[2]);
      else entry.timeoutS = Number(scalar[2]);
    }
  }
  const result: Record<string, FunctionSizing> = {};
  for (const name of names) {
    const entry = found[name];
    if (entry?.memoryMb === undefined || entry.timeoutS === undefined) {
      throw new Error(`s.yaml: resource ${name} has no literal memorySize and timeout`);
    }
    result[name] = { memoryMb: entry.memoryMb, timeoutS: entry.timeoutS };
  }
  return result;
}
