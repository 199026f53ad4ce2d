/**
 * The embedded defaults of local mode: which variables `npm start` sets for the two bundles on top of
 * what the shell, `.env.local` and `.env` say (local/env-file.ts). Pure: it reads only the `env` it is
 * given, so the choices are tested without starting anything.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Env } from '../shared/config/load-config';
import type { FcAccessKey } from './fc-signature';

/** Account id of the local FC endpoint (any 16 digits; it never leaves this machine). */
export const LOCAL_ACCOUNT_ID = '1000000000000001';

/** The reply function's name when REPLY_FUNCTION_NAME is unset, as in s.yaml. */
export const DEFAULT_REPLY_FUNCTION = 'dingtalk-llm-reply';

/** The host the chat client's session webhook runs on; added to DINGTALK_WEBHOOK_HOSTS locally only. */
export const LOCAL_WEBHOOK_HOST = '127.0.0.1';

const isSet = (env: Env, name: string): boolean => (env[name]?.trim() ?? '') !== '';

/** True when no API key is configured, or FORCE_MOCK_OPENAI asks for the offline responder anyway. */
export function useOfflineLlm(env: Env): boolean {
  return !isSet(env, 'OPENAI_API_KEY') || ['1', 'true', 'yes'].includes((env.FORCE_MOCK_OPENAI ?? '').trim().toLowerCase());
}

/**
 * The access key the conversation bundle signs its invocations with: the shell's ALIBABA_CLOUD_* keys
 * when set (they may also serve OSS history), else a random pair valid only for this run.
 */
export function localAccessKey(env: Env): FcAccessKey {
  const accessKeyId = env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim();
  const accessKeySecret = env.ALIBABA_CLOUD_ACCESS_KEY_SECRET?.trim();
  if (accessKeyId && accessKeySecret) {
    const securityToken = env.ALIBABA_CLOUD_SECURITY_TOKEN?.trim();
    return securityToken ? { accessKeyId, accessKeySecret, securityToken } : { accessKeyId, accessKeySecret };
  }
  return { accessKeyId: `LTAIlocal${randomBytes(8).toString('hex')}`, accessKeySecret: randomBytes(24).toString('base64url') };
}

/** What `localEnvironment` needs besides the user's environment. */
export interface LocalRuntime {
  appSecret: string;
  /** URL of the local FC endpoint. */
  fcEndpoint: string;
  accessKey: FcAccessKey;
  /** Folder of local state (LOCAL_DATA_DIR), absolute. */
  dataDir: string;
  /** The offline responder, when it is used. */
  offline?: { baseURL: string; apiKey: string; model: string };
}

/**
 * The variables to set for the bundles. Always: the app secret, the local FC endpoint with its account,
 * region and keys, and 127.0.0.1 added to DINGTALK_WEBHOOK_HOSTS (the production default stays
 * `oapi.dingtalk.com`). When nothing else is configured: history in `<dataDir>/history`. With the
 * offline responder: its URL, key and model (and no Azure API version).
 */
export function localEnvironment(env: Env, runtime: LocalRuntime): Record<string, string> {
  const hosts = (env.DINGTALK_WEBHOOK_HOSTS?.trim() || 'oapi.dingtalk.com').split(',').map((host) => host.trim()).filter((host) => host !== '');
  if (!hosts.includes(LOCAL_WEBHOOK_HOST)) hosts.push(LOCAL_WEBHOOK_HOST);
  const out: Record<string, string> = {
    DINGTALK_APP_SECRET: runtime.appSecret,
    REPLY_FUNCTION_NAME: env.REPLY_FUNCTION_NAME?.trim() || DEFAULT_REPLY_FUNCTION,
    FC_ENDPOINT: runtime.fcEndpoint,
    FC_ACCOUNT_ID: LOCAL_ACCOUNT_ID,
    FC_REGION: env.FC_REGION?.trim() || 'cn-hangzhou',
    ALIBABA_CLOUD_ACCESS_KEY_ID: runtime.accessKey.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: runtime.accessKey.accessKeySecret,
    ALIBABA_CLOUD_SECURITY_TOKEN: runtime.accessKey.securityToken ?? '',
    DINGTALK_WEBHOOK_HOSTS: hosts.join(','),
  };
  if (!['HISTORY_DIR', 'OSS_BUCKET', 'S3_BUCKET'].some((name) => isSet(env, name))) {
    out.HISTORY_DIR = path.join(runtime.dataDir, 'history');
  }
  if (runtime.offline !== undefined) {
    out.OPENAI_API_KEY = runtime.offline.apiKey;
    out.OPENAI_BASE_URL = runtime.offline.baseURL;
    out.OPENAI_MODEL = runtime.offline.model;
    out.OPENAI_API_VERSION = '';
  }
  return out;
}

/** Where history is kept, in words, for the start banner. */
export function describeHistory(env: Env): string {
  if (isSet(env, 'HISTORY_DIR')) return `folder ${path.resolve(env.HISTORY_DIR?.trim() ?? '')}`;
  if (isSet(env, 'OSS_BUCKET')) return `OSS bucket ${env.OSS_BUCKET?.trim() ?? ''}`;
  if (isSet(env, 'S3_BUCKET')) return `S3 bucket ${env.S3_BUCKET?.trim() ?? ''}`;
  return 'nowhere (no HISTORY_DIR, OSS_BUCKET or S3_BUCKET)';
}
