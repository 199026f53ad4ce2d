/**
 * Reads s.yaml as text, without the `s` CLI or the network: the variables it takes from the deploying
 * machine (`${env('NAME', 'default')}`) and the environment each function receives. Shared by
 * `npm run doctor` and the deploy tests, so both read s.yaml the same way.
 */
import { VARIABLES, type FunctionName } from '../shared/config/variables';

/** One variable s.yaml reads from the deploying machine's environment. */
export interface EnvReference {
  name: string;
  /** The second argument of env(), or undefined when the variable is required. */
  defaultValue: string | undefined;
}

// env('NAME') or env('NAME', 'default'), single or double quotes, as Serverless Devs accepts them.
const ENV_CALL = /\$\{env\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*(?:,\s*(['"])(.*?)\3\s*)?\)\}/g;

/** The text without full-line YAML comments. */
const withoutComments = (text: string): string =>
  text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');

/**
 * The environment variables s.yaml reads with env(), one entry per name in order of first use.
 * Full-line YAML comments are skipped. Throws on a call this parser does not understand and on a
 * name used twice with different defaults, so the list can be trusted.
 */
export function listEnvReferences(text: string): EnvReference[] {
  const code = withoutComments(text);
  const found = new Map<string, EnvReference>();
  let matched = 0;
  for (const match of code.matchAll(ENV_CALL)) {
    matched += 1;
    const name = match[2] as string;
    const defaultValue = match[4];
    const previous = found.get(name);
    if (previous && previous.defaultValue !== defaultValue) {
      throw new Error(`s.yaml reads ${name} with two defaults: ${String(previous.defaultValue)} and ${String(defaultValue)}`);
    }
    if (!previous) found.set(name, { name, defaultValue });
  }
  const calls = code.split('${env(').length - 1;
  if (calls !== matched) {
    throw new Error(`s.yaml has ${calls} env() calls but only ${matched} of the form env('NAME'[, 'default'])`);
  }
  return [...found.values()];
}

/**
 * The `environmentVariables` of each resource of s.yaml, as `{KEY: raw value}`, read by indentation:
 * the keys one level below `environmentVariables:` inside the block of `resources.<name>`.
 */
export function functionEnvironments(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let inResources = false;
  let resource: string | undefined;
  let block: { indent: number; keyIndent?: number } | undefined;
  for (const line of withoutComments(text).split('\n')) {
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      inResources = /^resources:\s*$/.test(line);
      resource = undefined;
      block = undefined;
      continue;
    }
    if (!inResources) continue;
    const key = /^\s*([A-Za-z0-9_-]+):\s*(.*)$/.exec(line);
    if (indent === 2 && key) {
      resource = key[1] as string;
      block = undefined;
      continue;
    }
    if (block !== undefined && indent <= block.indent) block = undefined;
    if (block === undefined) {
      if (resource !== undefined && key && key[1] === 'environmentVariables' && (key[2] ?? '') === '') {
        block = { indent };
        out[resource] = {};
      }
      continue;
    }
    block.keyIndent ??= indent;
    if (indent === block.keyIndent && key && resource !== undefined) (out[resource] as Record<string, string>)[key[1] as string] = (key[2] ?? '').trim();
  }
  return out;
}

/**
 * Variables s.yaml must not pass to a function: FC sets FC_* itself (the prefix is reserved), FC hands
 * the role's credentials in the context, and FC_ENDPOINT is for tests and local runs only.
 */
export const NOT_DEPLOYED = /^(FC_|ALIBABA_CLOUD_)/;

/** The variables `fn` reads that s.yaml should pass it, sorted. */
export function documentedVariables(fn: FunctionName): string[] {
  return VARIABLES.filter((spec) => spec.usedBy.includes(fn) && !NOT_DEPLOYED.test(spec.name))
    .map((spec) => spec.name)
    .sort();
}

/** What differs between s.yaml's environment of each function and the loader's list; empty when they agree. */
export function sYamlProblems(text: string, functions: readonly FunctionName[] = ['conversation', 'reply']): string[] {
  const problems: string[] = [];
  let environments: Record<string, Record<string, string>>;
  try {
    listEnvReferences(text);
    environments = functionEnvironments(text);
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
  for (const fn of functions) {
    const passed = environments[fn];
    if (passed === undefined) {
      problems.push(`${fn}: no environmentVariables in s.yaml`);
      continue;
    }
    const documented = documentedVariables(fn);
    const missing = documented.filter((name) => !(name in passed));
    const unknown = Object.keys(passed).filter((name) => !documented.includes(name));
    if (missing.length > 0) problems.push(`${fn}: s.yaml does not pass ${missing.join(', ')}`);
    if (unknown.length > 0) problems.push(`${fn}: s.yaml passes ${unknown.join(', ')}, which the function does not read`);
    for (const [name, value] of Object.entries(passed)) {
      const reads = /^\$\{env\(\s*['"]([A-Za-z0-9_]+)['"]/.exec(value)?.[1];
      if (reads !== undefined && reads !== name && name !== 'REPLY_FUNCTION_NAME') problems.push(`${fn}: ${name} is set from env('${reads}')`);
    }
  }
  return problems;
}

/**
 * `value` with each `${env('NAME', 'default')}` replaced as Serverless Devs renders it: the variable
 * from `env`, or the default when it is unset or empty ('' when there is none; s itself fails then).
 */
export function renderEnvCalls(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(ENV_CALL, (_call, _quote: string, name: string, _defaultQuote: string | undefined, defaultValue: string | undefined) => {
    const set = env[name];
    return set !== undefined && set !== '' ? set : (defaultValue ?? '');
  });
}

/**
 * The lines of each resource's block under `resources:` (comments removed), by resource name: what
 * the deploy check searches for a resource's props (timeout, mounts, VPC).
 */
export function resourceSections(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let inResources = false;
  let current: string[] | undefined;
  for (const line of withoutComments(text).split('\n')) {
    if (line.trim() === '') continue;
    if (/^\S/.test(line)) {
      inResources = /^resources:\s*$/.test(line);
      current = undefined;
      continue;
    }
    if (!inResources) continue;
    const resource = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (resource) {
      current = out[resource[1] as string] = [];
      continue;
    }
    current?.push(line);
  }
  return out;
}
