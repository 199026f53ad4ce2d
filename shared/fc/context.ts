import type { StaticCredentials } from '../config/load-config';

/** Alibaba Cloud credentials: the function role's temporary STS keys inside FC, or static keys outside. */
export type CloudCredentials = StaticCredentials;

/** The part of FC 3.0's handler `context` this bot reads. */
export interface FcContext {
  requestId?: string;
  region?: string;
  accountId?: string;
  credentials?: CloudCredentials;
  function?: { name?: string; memory?: number; timeout?: number };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads FC's `context` defensively: any field may be missing outside FC. */
export function readFcContext(value: unknown): FcContext {
  if (typeof value !== 'object' || value === null) return {};
  const raw = value as Record<string, unknown>;
  const context: FcContext = {};
  const requestId = str(raw.requestId);
  const region = str(raw.region);
  const accountId = str(raw.accountId);
  if (requestId !== undefined) context.requestId = requestId;
  if (region !== undefined) context.region = region;
  if (accountId !== undefined) context.accountId = accountId;
  const credentials = raw.credentials as Record<string, unknown> | undefined;
  const accessKeyId = str(credentials?.accessKeyId);
  const accessKeySecret = str(credentials?.accessKeySecret);
  if (accessKeyId !== undefined && accessKeySecret !== undefined) {
    const securityToken = str(credentials?.securityToken);
    context.credentials = securityToken === undefined ? { accessKeyId, accessKeySecret } : { accessKeyId, accessKeySecret, securityToken };
  }
  const fn = raw.function as Record<string, unknown> | undefined;
  if (typeof fn === 'object' && fn !== null) {
    context.function = {};
    const name = str(fn.name);
    if (name !== undefined) context.function.name = name;
    if (typeof fn.memory === 'number') context.function.memory = fn.memory;
    if (typeof fn.timeout === 'number') context.function.timeout = fn.timeout;
  }
  return context;
}

/**
 * Tracks the latest FC context of this instance. FC hands fresh STS credentials with each invocation;
 * adapters read them through this, so a client made once per instance always signs with current keys.
 */
export class InvocationContext {
  private current: FcContext = {};

  constructor(private readonly fallback: { credentials?: CloudCredentials; region?: string; accountId?: string }) {}

  update(context: unknown): FcContext {
    this.current = readFcContext(context);
    return this.current;
  }

  get requestId(): string | undefined {
    return this.current.requestId;
  }

  /** The context's credentials, else the ALIBABA_CLOUD_* ones; throws when there are neither. */
  credentials(): CloudCredentials {
    const credentials = this.current.credentials ?? this.fallback.credentials;
    if (credentials === undefined) {
      throw new Error(
        'no Alibaba Cloud credentials: FC passes the function role’s credentials in the context; outside FC set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      );
    }
    return credentials;
  }

  region(): string | undefined {
    return this.current.region ?? this.fallback.region;
  }

  accountId(): string | undefined {
    return this.current.accountId ?? this.fallback.accountId;
  }
}

/** A cache of one client per set of credentials: rebuilt only when FC rotates the keys. */
export function clientPerCredentials<T>(create: (credentials: CloudCredentials) => T): (credentials: CloudCredentials) => T {
  let cachedKey: string | undefined;
  let cached: T | undefined;
  return (credentials) => {
    const key = `${credentials.accessKeyId}\n${credentials.accessKeySecret}\n${credentials.securityToken ?? ''}`;
    if (cached === undefined || key !== cachedKey) {
      cached = create(credentials);
      cachedKey = key;
    }
    return cached;
  };
}
