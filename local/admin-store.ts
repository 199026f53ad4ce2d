/**
 * The history store `npm run admin` reads: the one the reply function uses, from the same variables
 * (HISTORY_DIR, OSS_BUCKET with the operator's access key, S3_BUCKET), opened by the same factory
 * (`createObjectStore`), as `npm run doctor` does. Errors come out as {@link AdminError}: a sentence and
 * what to do, never a secret.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createObjectStore } from '../shared/adapters/create-object-store';
import { ossRegion } from '../shared/adapters/oss-object-store';
import { loadReplyConfig, type Env, type HistoryConfig, type ReplyConfig } from '../shared/config/load-config';
import { StorageError } from '../shared/errors';
import type { CloudCredentials } from '../shared/fc/context';
import { normalizePrefix } from '../shared/history/keys';
import type { ObjectStore } from '../shared/ports';
import { folderWalker, prefixWalker, type KeyWalker } from './admin-walk';
import { connectionCause } from './connection-cause';
import { createMem0Memory } from '../shared/adapters/mem0-memory';
import type { LongTermMemory } from '../shared/memory/memory';

/** Exit codes of `npm run admin`. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unknownUser: 3 } as const;

/** A failure to tell the operator: what happened, what to do, and the exit code. */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly fix: string | undefined,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/** The opened store and what the commands need to know about it. */
export interface AdminStore {
  store: ObjectStore;
  /** HISTORY_PREFIX, normalised (`history/`). */
  prefix: string;
  /** Lists every key under a prefix (see admin-walk.ts). */
  walker: KeyWalker;
  /** Where it is, in words (bucket, region, endpoint, or folder); no secret. */
  where: string;
  /** The folder of a HISTORY_DIR store (empty folders are removed after an erase). */
  dir?: string;
  /** TZ: the time zone days are counted in (the daily limit's). */
  timeZone: string;
  /** The Mem0 platform, when MEM0_API_KEY is set: the long-term memory lives there, not in the store. */
  mem0?: LongTermMemory;
}

const STORE_VARIABLES = ['HISTORY_DIR', 'OSS_BUCKET', 'S3_BUCKET'] as const;

/** Where the store is, in words an operator can check. */
export function describeHistory(history: HistoryConfig, region: string | undefined): string {
  switch (history.kind) {
    case 'filesystem':
      return `folder ${history.dir}`;
    case 'oss': {
      const bucketRegion = history.region ?? region;
      const endpoint = history.endpoint ?? (bucketRegion !== undefined ? `https://${history.bucket}.${ossRegion(bucketRegion)}.aliyuncs.com` : 'no endpoint');
      return `OSS bucket ${history.bucket} (region ${bucketRegion ?? 'unset'}, endpoint ${endpoint})`;
    }
    case 's3':
      return `S3 bucket ${history.bucket} (region ${history.region}, endpoint ${history.endpoint ?? 'AWS'})`;
  }
}

/** Options of {@link openAdminStore}. */
export interface OpenAdminStoreOptions {
  /** LOCAL_DATA_DIR: with no store variable set, its `history` folder (what `npm start` writes) is used when it exists. */
  dataDir?: string;
  /** Size of one LIST of a bucket (tests make it small). */
  page?: number;
}

/**
 * Opens the configured store. Throws {@link AdminError} when none is configured, the variables do not load,
 * or OSS has no access key.
 */
export function openAdminStore(env: Env, options: OpenAdminStoreOptions = {}): AdminStore {
  const values: Record<string, string | undefined> = { ...env };
  let note = '';
  if (!STORE_VARIABLES.some((name) => (values[name]?.trim() ?? '') !== '')) {
    const local = options.dataDir !== undefined ? path.join(options.dataDir, 'history') : undefined;
    if (local === undefined || !existsSync(local)) {
      throw new AdminError(
        'no history store is configured',
        'set OSS_BUCKET (with OSS_REGION, ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET), S3_BUCKET or HISTORY_DIR, as for the bot, in the shell, .env.local or .env',
      );
    }
    values.HISTORY_DIR = local;
    note = ' (npm start’s folder: no HISTORY_DIR, OSS_BUCKET or S3_BUCKET is set)';
  }
  let config: ReplyConfig;
  try {
    // Only the store matters here: the other required variables get placeholders, as in doctor's probe.
    config = loadReplyConfig({ ...values, OPENAI_API_KEY: values.OPENAI_API_KEY?.trim() || 'unused-by-admin', DINGTALK_CLIENT_ID: '', DINGTALK_CARD_TEMPLATE_ID: '' });
  } catch (error) {
    const text = error instanceof Error ? error.message.replace(/^.*incomplete:\n/, '') : String(error);
    throw new AdminError(`the configuration does not load: ${text}`, 'correct the variables listed (see .env.example; npm run doctor checks them all)');
  }
  const history = config.history;
  if (history.kind === 'filesystem' && !existsSync(history.dir)) {
    throw new AdminError(`folder ${history.dir} does not exist`, 'check HISTORY_DIR: the folder the bot keeps history in (npm start uses .data/history)');
  }
  const where = `${describeHistory(history, config.region)}${note}`;
  const credentials = config.credentials;
  if (history.kind === 'oss' && credentials === undefined) {
    throw new AdminError(
      `${where}: no access key to read it with`,
      'set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET to a key that may list, read and delete the history prefix (the functions use their role instead)',
    );
  }
  let store: ObjectStore;
  try {
    store = createObjectStore(history, { region: () => config.region, credentials: () => credentials as CloudCredentials, insideFc: false });
  } catch (error) {
    throw new AdminError(`${where}: ${error instanceof Error ? error.message : String(error)}`, 'set OSS_REGION to the bucket’s region');
  }
  const prefix = normalizePrefix(history.prefix);
  const mem0 = config.memory.mem0 !== undefined ? createMem0Memory({ apiKey: config.memory.mem0.apiKey, baseUrl: config.memory.mem0.baseUrl }) : undefined;
  const base = { store, prefix, where, timeZone: config.access.timeZone, ...(mem0 !== undefined ? { mem0 } : {}) };
  if (history.kind === 'filesystem') return { ...base, walker: folderWalker(history.dir), dir: history.dir };
  return { ...base, walker: prefixWalker(store, options.page) };
}


/** A failed storage request as an {@link AdminError} naming the store and what to check. */
export function storeFailure(error: unknown, admin: Pick<AdminStore, 'where' | 'prefix'>): AdminError {
  if (error instanceof AdminError) return error;
  const code = error instanceof StorageError ? error.code : undefined;
  const fixes: Record<string, string> = {
    NoSuchBucket: 'correct OSS_BUCKET / S3_BUCKET and its region',
    AccessDenied: `allow list, read, write and delete on ${admin.prefix}* to this key`,
    InvalidAccessKeyId: 'check the access key id',
    SignatureDoesNotMatch: 'check the access key secret',
    EACCES: 'make the folder readable and writable by you',
  };
  const unreachable = error instanceof StorageError && error.status === undefined ? connectionCause(error) : undefined;
  if (unreachable !== undefined || code === 'RequestError' || code === 'ConnectionTimeoutError') {
    return new AdminError(`${admin.where}: could not be reached (${unreachable ?? code ?? 'no answer'})`, 'check OSS_REGION and OSS_ENDPOINT (an -internal endpoint works only inside Alibaba Cloud), and this machine’s network');
  }
  const text = error instanceof Error ? error.message : String(error);
  return new AdminError(`${admin.where}: ${text}`, (code !== undefined ? fixes[code] : undefined) ?? 'check the history variables and the access key');
}
