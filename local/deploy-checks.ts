/**
 * What `s deploy` would send to Function Compute, checked before anything is uploaded: the values that
 * deploy fine and then cannot work in FC (an empty API key, a loopback LLM URL from a laptop `.env`, a
 * history folder on the function's throwaway disk, an LLM time budget longer than the function may
 * run). Pure: `npm run predeploy-check` (local/deploy-check.ts) and s.yaml's pre-deploy actions feed it
 * the environment s renders from and the text of s.yaml.
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { loadConversationConfig, loadReplyConfig, type Env } from '../shared/config/load-config';
import { variable, VARIABLES, type FunctionName } from '../shared/config/variables';
import { functionEnvironments, listEnvReferences, renderEnvCalls, resourceSections } from './s-yaml-env';

/** One value that must not be deployed, with what to do about it. */
export interface DeployRefusal {
  /** The variable (or s.yaml setting) at fault. */
  name: string;
  /** What is wrong, with the value when it is not secret. */
  problem: string;
  /** What to set, and where. */
  fix: string;
}

/** The functions of s.yaml that the check renders. */
const FUNCTIONS: readonly FunctionName[] = ['conversation', 'reply'];

/** Where deploy values live, said once for every refusal. */
export const WHERE_DEPLOY_VALUES = 'in .env beside s.yaml, or in the shell that runs s deploy';

/**
 * The environment each function would receive: s.yaml's `environmentVariables`, rendered with `env`
 * as s renders them (unset or empty falls back to the default).
 */
export function renderedEnvironments(env: Env, sYaml: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [fn, variables] of Object.entries(functionEnvironments(sYaml))) {
    out[fn] = Object.fromEntries(Object.entries(variables).map(([name, raw]) => [name, renderEnvCalls(raw, env).trim()]));
  }
  return out;
}

/** A scalar prop of a resource (`timeout`, `memorySize`, ...), rendered; undefined when absent. */
export function resourceProp(sYaml: string, resource: string, key: string, env: Env = {}): string | undefined {
  const lines = resourceSections(sYaml)[resource] ?? [];
  const props = lines.findIndex((line) => /^ {4}props:\s*$/.test(line));
  if (props < 0) return undefined;
  for (const line of lines.slice(props + 1)) {
    if (/^ {0,4}\S/.test(line)) break;
    const match = new RegExp(`^ {6}${key}:\\s*(.*?)\\s*$`).exec(line);
    if (match) return renderEnvCalls((match[1] as string).replace(/^(['"])(.*)\1$/, '$2'), env);
  }
  return undefined;
}

/** The folders a resource mounts (`mountDir` of ossMountConfig / nasConfig), and whether a mount is `auto`. */
export function declaredMounts(sYaml: string, resource: string): { dirs: string[]; auto: boolean } {
  const lines = resourceSections(sYaml)[resource] ?? [];
  const dirs = lines
    .map((line) => /^\s*(?:-\s*)?mountDir:\s*['"]?([^'"\s]+)['"]?\s*$/.exec(line)?.[1])
    .filter((dir): dir is string => dir !== undefined)
    .map((dir) => path.posix.normalize(dir));
  const auto = lines.some((line) => /^\s*(ossMountConfig|nasConfig):\s*['"]?auto['"]?\s*$/.test(line));
  return { dirs, auto };
}

/** True when the resource declares a VPC (`vpcConfig:`), so private addresses may be reachable. */
export function declaresVpc(sYaml: string, resource: string): boolean {
  return (resourceSections(sYaml)[resource] ?? []).some((line) => /^ {6}vpcConfig:/.test(line));
}

/** How a host can be reached from FC: only `public` is reachable without a VPC. */
export type HostKind = 'loopback' | 'unspecified' | 'private' | 'link-local' | 'single-label' | 'public';

/** Classifies a hostname or IP address (IPv6 with or without brackets). */
export function hostKind(host: string): HostKind {
  const name = host.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  const family = isIP(name);
  if (family === 4) return ipv4Kind(name);
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(name)?.[1];
    if (mapped !== undefined) return ipv4Kind(mapped);
    if (name === '::1') return 'loopback';
    if (name === '::') return 'unspecified';
    if (/^f[cd]/.test(name)) return 'private';
    if (/^fe[89ab]/.test(name)) return 'link-local';
    return 'public';
  }
  if (name.endsWith('.local') || name.endsWith('.lan') || name.endsWith('.home.arpa')) return 'private';
  if (!name.includes('.')) return 'single-label';
  return 'public';
}

function ipv4Kind(address: string): HostKind {
  const [a = 0, b = 0] = address.split('.').map(Number);
  if (a === 127) return 'loopback';
  if (a === 0) return 'unspecified';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 169 && b === 254) return 'link-local';
  return 'public';
}

const HOST_KIND_WORDS: Record<Exclude<HostKind, 'public'>, string> = {
  loopback: 'is this machine (loopback): inside FC it is the function itself',
  unspecified: 'is the unspecified address 0.0.0.0, which no function can reach',
  private: 'is on a private network, which a function without vpcConfig in s.yaml cannot reach',
  'link-local': 'is a link-local address, which no function can reach',
  'single-label': 'is a single-label name that only a local network resolves, which a function without vpcConfig in s.yaml cannot reach',
};

/** The variables that hold a URL the deployed function connects to. */
export const URL_VARIABLES: readonly string[] = ['OPENAI_BASE_URL', 'OSS_ENDPOINT', 'S3_ENDPOINT', 'FC_ENDPOINT', 'DINGTALK_API_BASE', 'MEM0_BASE_URL'];

/** The host of a URL variable's value; undefined when it is not an http(s) URL (the loader refuses it, without printing it). */
function urlHost(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

/** The seconds the openai SDK sleeps between attempts at most (0.5 s doubling up to 8 s, before its jitter). */
export function llmBackoffSeconds(retries: number): number {
  let total = 0;
  for (let attempt = 0; attempt < retries; attempt += 1) total += Math.min(0.5 * 2 ** attempt, 8);
  return total;
}

/** Seconds a reply run needs besides the LLM and the webhook: cold start, history read and save. */
export const REPLY_MARGIN_SECONDS = 10;

/** The worst-case seconds of one reply run, term by term, from the values the reply function gets. */
export interface ReplyTimeBudget {
  attempts: number;
  llmTimeoutSeconds: number;
  backoffSeconds: number;
  webhookTimeoutSeconds: number;
  marginSeconds: number;
  totalSeconds: number;
}

/**
 * The worst case of one reply run: (LLM_MAX_RETRIES + 1) × LLM_TIMEOUT_SECONDS + the SDK's backoff +
 * WEBHOOK_TIMEOUT_SECONDS + {@link REPLY_MARGIN_SECONDS}. Undefined when a value is not a whole number
 * (the loader reports that).
 */
export function replyTimeBudget(replyEnv: Env): ReplyTimeBudget | undefined {
  const whole = (name: string): number | undefined => {
    const raw = replyEnv[name]?.trim() || variable(name).default || '';
    return /^\d+$/.test(raw) ? Number(raw) : undefined;
  };
  const llmTimeoutSeconds = whole('LLM_TIMEOUT_SECONDS');
  const retries = whole('LLM_MAX_RETRIES');
  const webhookTimeoutSeconds = whole('WEBHOOK_TIMEOUT_SECONDS');
  if (llmTimeoutSeconds === undefined || retries === undefined || webhookTimeoutSeconds === undefined) return undefined;
  const attempts = retries + 1;
  const backoffSeconds = llmBackoffSeconds(retries);
  const totalSeconds = attempts * llmTimeoutSeconds + backoffSeconds + webhookTimeoutSeconds + REPLY_MARGIN_SECONDS;
  return { attempts, llmTimeoutSeconds, backoffSeconds, webhookTimeoutSeconds, marginSeconds: REPLY_MARGIN_SECONDS, totalSeconds };
}

/** `acs:ram::<account id>:role/<role name>`, the form FC accepts for a function's role. */
export const ROLE_ARN = /^acs:ram::\d+:role\/[A-Za-z0-9._-]{1,64}$/;

/** What a variable is, from the registry, to close a refusal. */
function about(name: string): string {
  const spec = VARIABLES.find((candidate) => candidate.name === name);
  if (spec === undefined) return '';
  return ` (${name}: ${spec.description}${spec.where ? ` ${spec.where}` : ''})`;
}

/** Where a variable's value came from, when the caller knows (`.env`, the shell). */
export type Origins = Readonly<Record<string, string>>;

const from = (origins: Origins, name: string): string => (origins[name] ? ` (from ${origins[name]})` : '');

/** The loader's own problems with one function's rendered environment, as refusals. */
function loaderRefusals(fn: FunctionName, rendered: Env, env: Env, origins: Origins): DeployRefusal[] {
  try {
    if (fn === 'conversation') loadConversationConfig(rendered);
    else loadReplyConfig(rendered);
    return [];
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return text
      .split('\n- ')
      .slice(1)
      .map((text) => {
        let problem = text;
        const name = /^([A-Z][A-Z0-9_]*)/.exec(problem)?.[1] ?? fn;
        let fix = `Set ${name} ${WHERE_DEPLOY_VALUES}.`;
        // The case that deploys fine and leaves the bot silent: NAME='' in .env.
        if (env[name] !== undefined && env[name]?.trim() === '' && origins[name] !== undefined) problem += ` (it is set to '' in ${origins[name]})`;
        // s.yaml passes the canonical names only: an alias set here never reaches the function.
        const aliases = VARIABLES.find((spec) => spec.name === name)?.aliases ?? [];
        const alias = aliases.find((candidate) => (env[candidate]?.trim() ?? '') !== '');
        if (alias !== undefined) fix = `${alias} is set, but s.yaml deploys only ${name}: set ${name} ${WHERE_DEPLOY_VALUES}.`;
        if (/^HISTORY_DIR, OSS_BUCKET or S3_BUCKET is required/.test(problem)) {
          const empty = ['HISTORY_DIR', 'OSS_BUCKET', 'S3_BUCKET'].filter((store) => env[store] !== undefined && env[store]?.trim() === '');
          if (empty.length > 0) problem += ` (set to '': ${empty.map((store) => `${store}${from(origins, store)}`).join(', ')})`;
          fix = `Set OSS_BUCKET (recommended) or S3_BUCKET ${WHERE_DEPLOY_VALUES}; HISTORY_DIR only for a bucket or NAS mounted in s.yaml.`;
        }
        return { name, problem: `${fn}: ${problem}`, fix };
      });
  }
}

/**
 * Every reason not to deploy `sYaml` with `env` (the shell plus `.env`, as s sees them), empty when it
 * may go. `origins` names where each variable came from, for the messages.
 */
export function deployRefusals(env: Env, sYaml: string, origins: Origins = {}): DeployRefusal[] {
  const refusals: DeployRefusal[] = [];
  let rendered: Record<string, Record<string, string>>;
  try {
    listEnvReferences(sYaml);
    rendered = renderedEnvironments(env, sYaml);
  } catch (error) {
    return [{ name: 's.yaml', problem: error instanceof Error ? error.message : String(error), fix: "Write env() calls as ${env('NAME', 'default')}." }];
  }

  // The role: s reads FC_ROLE_ARN on this machine; FC refuses anything but a RAM role ARN.
  const role = env.FC_ROLE_ARN?.trim() ?? '';
  if (!ROLE_ARN.test(role)) {
    refusals.push({
      name: 'FC_ROLE_ARN',
      problem: role === '' ? 'FC_ROLE_ARN is not set: both functions run as this RAM role' : `FC_ROLE_ARN=${JSON.stringify(role)} is not a RAM role ARN${from(origins, 'FC_ROLE_ARN')}`,
      fix: `Set FC_ROLE_ARN to acs:ram::<account id>:role/<role name> (RAM console → Roles → your role → ARN; the README's "Create the RAM role" lists its policy) ${WHERE_DEPLOY_VALUES}.`,
    });
  }
  const region = env.FC_REGION?.trim() ?? '';
  if (region !== '' && !/^[a-z]{2,}(-[a-z0-9]+)+$/.test(region)) {
    refusals.push({ name: 'FC_REGION', problem: `FC_REGION=${JSON.stringify(region)} is not a region id${from(origins, 'FC_REGION')}`, fix: `Set FC_REGION to a region id such as cn-hangzhou ${WHERE_DEPLOY_VALUES}, or unset it for cn-hangzhou.` });
  }

  for (const fn of FUNCTIONS) {
    const fnEnv = rendered[fn];
    if (fnEnv === undefined) continue;
    refusals.push(...loaderRefusals(fn, fnEnv, env, origins));
    const vpc = declaresVpc(sYaml, fn);
    for (const name of URL_VARIABLES) {
      const value = fnEnv[name] ?? '';
      if (value === '') continue;
      const host = urlHost(value);
      const kind = host === undefined ? undefined : hostKind(host);
      if (kind === undefined || kind === 'public' || (vpc && (kind === 'private' || kind === 'single-label'))) continue;
      refusals.push({
        name,
        problem: `${fn}: ${name}=${JSON.stringify(value)}${from(origins, name)}: ${host} ${HOST_KIND_WORDS[kind]}`,
        fix: `Set ${name} to an address FC can reach ${WHERE_DEPLOY_VALUES}, or leave it empty for the default.${about(name)}`,
      });
    }
    const hosts = (fnEnv.DINGTALK_WEBHOOK_HOSTS ?? '').split(',').map((host) => host.trim()).filter((host) => host !== '');
    const local = hosts.filter((host) => hostKind(host) !== 'public');
    if (local.length > 0) {
      refusals.push({
        name: 'DINGTALK_WEBHOOK_HOSTS',
        problem: `${fn}: DINGTALK_WEBHOOK_HOSTS=${JSON.stringify(fnEnv.DINGTALK_WEBHOOK_HOSTS)}${from(origins, 'DINGTALK_WEBHOOK_HOSTS')} lets answers go to ${local.join(', ')}, which is not DingTalk`,
        fix: `Leave DINGTALK_WEBHOOK_HOSTS unset (oapi.dingtalk.com) ${WHERE_DEPLOY_VALUES}; npm start adds 127.0.0.1 by itself, so no file needs it.`,
      });
    }
  }

  const reply = rendered.reply;
  if (reply !== undefined) {
    const dir = reply.HISTORY_DIR ?? '';
    if (dir !== '') {
      const mounts = declaredMounts(sYaml, 'reply');
      const normal = path.posix.normalize(dir);
      const mounted =
        path.posix.isAbsolute(dir) &&
        (mounts.dirs.some((mount) => normal === mount || normal.startsWith(`${mount.replace(/\/$/, '')}/`)) || (mounts.auto && normal.startsWith('/mnt/')));
      if (!mounted) {
        const declared = mounts.dirs.length > 0 ? `its mounts are ${mounts.dirs.join(', ')}` : 's.yaml mounts nothing into it';
        refusals.push({
          name: 'HISTORY_DIR',
          problem: `reply: HISTORY_DIR=${JSON.stringify(dir)}${from(origins, 'HISTORY_DIR')} is not under a folder s.yaml mounts into the reply function (${declared}): history would go to the instance's temporary disk and be lost`,
          fix: `Unset HISTORY_DIR and set OSS_BUCKET (recommended) ${WHERE_DEPLOY_VALUES}. To keep history in a mounted bucket or NAS, declare it in s.yaml's reply resource (ossMountConfig or nasConfig, mountDir under /mnt) and point HISTORY_DIR under that mountDir.`,
        });
      }
    }
    const timeout = Number(resourceProp(sYaml, 'reply', 'timeout', env));
    const budget = replyTimeBudget(reply);
    if (budget !== undefined && Number.isFinite(timeout) && budget.totalSeconds > timeout) {
      refusals.push({
        name: 'LLM_TIMEOUT_SECONDS',
        problem:
          `reply: a run may need ${budget.totalSeconds} s, longer than the reply function's timeout of ${timeout} s in s.yaml: ` +
          `${budget.attempts} LLM attempts × ${budget.llmTimeoutSeconds} s (LLM_MAX_RETRIES + 1, LLM_TIMEOUT_SECONDS) + ${budget.backoffSeconds} s backoff + ` +
          `${budget.webhookTimeoutSeconds} s webhook (WEBHOOK_TIMEOUT_SECONDS) + ${budget.marginSeconds} s for history and start-up. FC would stop the run before it could answer`,
        fix: `Lower LLM_TIMEOUT_SECONDS or LLM_MAX_RETRIES ${WHERE_DEPLOY_VALUES}, or raise \`timeout:\` of the reply resource in s.yaml to at least ${Math.ceil(budget.totalSeconds)}.`,
      });
    }
  }
  return dedupe(refusals);
}

/** One refusal per problem text (both functions may report the same shared variable). */
function dedupe(refusals: DeployRefusal[]): DeployRefusal[] {
  const seen = new Set<string>();
  return refusals.filter((refusal) => {
    const key = `${refusal.name}\n${refusal.problem.replace(/^(conversation|reply): /, '')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The refusals as the text the deploy prints before it stops. */
export function renderRefusals(refusals: readonly DeployRefusal[]): string {
  if (refusals.length === 0) return 'deploy check: every value s.yaml will deploy can work in Function Compute\n';
  const lines = [`deploy check: not deploying, ${refusals.length} value${refusals.length === 1 ? '' : 's'} cannot work in Function Compute:`];
  for (const refusal of refusals) lines.push(`  ✗ ${refusal.problem}`, `    → ${refusal.fix}`);
  lines.push(
    'Nothing was uploaded. s deploys the shell\'s variables and those of .env beside s.yaml; values for npm start (a local',
    'OPENAI_BASE_URL, a HISTORY_DIR on this machine) belong in .env.local, which s never reads. Fix these and deploy again',
    '(npm run predeploy-check runs this check alone).',
  );
  return `${lines.join('\n')}\n`;
}
