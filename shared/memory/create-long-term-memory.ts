import type { MemoryConfig } from '../config/load-config';
import type { Clock, LlmClient, Logger, ObjectStore } from '../ports';
import type { LongTermMemory } from './memory';
import { createStoredMemory } from './stored-memory';

/** What the memory backends are built from, besides the configuration: the reply's own adapters. */
export interface LongTermMemoryDeps {
  /** The history store (the built-in memory lives in it). */
  store: ObjectStore;
  /** HISTORY_PREFIX. */
  prefix: string;
  /** The reply's LLM: the built-in memory's update call goes through it, with MEMORY_MODEL. */
  llm: LlmClient;
  /** The HTTP client of the Mem0 backend. Default: the runtime's global fetch. */
  fetch?: typeof fetch;
  clock?: Clock;
  logger?: Logger;
}

/** The Mem0 adapter's module, typed; loaded with `require` so teams without MEM0_API_KEY never evaluate it. */
type Mem0Module = typeof import('../adapters/mem0-memory');

/**
 * The long-term memory the configuration asks for, once per instance: undefined when MEMORY_ENABLED is false
 * (the reply then makes no memory call at all), the Mem0 platform when MEM0_API_KEY is set, else the built-in
 * memory in the history store. Building it does no I/O.
 */
export function createLongTermMemory(config: MemoryConfig, deps: LongTermMemoryDeps): LongTermMemory | undefined {
  if (!config.enabled) return undefined;
  const common = {
    ...(deps.clock !== undefined ? { clock: deps.clock } : {}),
    ...(deps.logger !== undefined ? { logger: deps.logger } : {}),
  };
  if (config.mem0 !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createMem0Memory } = require('../adapters/mem0-memory') as Mem0Module;
    return createMem0Memory({
      apiKey: config.mem0.apiKey,
      baseUrl: config.mem0.baseUrl,
      recallLimit: Math.min(config.maxItems, 50),
      ...(deps.fetch !== undefined ? { fetch: deps.fetch } : {}),
      ...common,
    });
  }
  return createStoredMemory({
    store: deps.store,
    prefix: deps.prefix,
    llm: deps.llm,
    maxItems: config.maxItems,
    ...(config.model !== undefined ? { model: config.model } : {}),
    ...common,
  });
}
