import type { ObjectStore } from '../ports';
import { normalizePrefix, safeSegment } from './keys';
import { isRecord } from '../util/is-record';

/** What a conversation chose for itself with `\model` and `\system`. */
export interface ConversationSettings {
  /** The model it switched to (one of OPENAI_MODELS). */
  model?: string;
  /** Its own system prompt, on top of SYSTEM_PROMPT. */
  system?: string;
  /** Who changed it last (staff id), and when (epoch ms): shown by `\model` and `\system`. */
  updatedBy?: string;
  updatedAt?: number;
}

/**
 * Per-conversation settings (the whole group, or the 1:1 chat), kept with the history. Read on every
 * question (one GET, beside the history read), written only by `\model` and `\system`.
 */
export interface ConversationSettingsStore {
  read(conversationId: string): Promise<ConversationSettings>;
  write(conversationId: string, settings: ConversationSettings): Promise<void>;
  /** Deletes a conversation's settings (the admin command line). */
  remove(conversationId: string): Promise<void>;
}

/** Longest `\system` prompt kept, in characters. */
export const MAX_CONVERSATION_SYSTEM_CHARS = 2_000;


/** The settings in a stored body, leaving out anything malformed. */
function decode(body: Buffer): ConversationSettings {
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    if (!isRecord(value)) return {};
    const settings: ConversationSettings = {};
    if (typeof value.model === 'string' && value.model !== '') settings.model = value.model;
    if (typeof value.system === 'string' && value.system !== '') settings.system = value.system.slice(0, MAX_CONVERSATION_SYSTEM_CHARS);
    if (typeof value.updatedBy === 'string') settings.updatedBy = value.updatedBy;
    if (typeof value.updatedAt === 'number') settings.updatedAt = value.updatedAt;
    return settings;
  } catch {
    return {};
  }
}

/**
 * Settings as one object per conversation: `<HISTORY_PREFIX>settings/<conversation>.json`. A change
 * replaces the object: the last `\model` or `\system` wins, which is what a person changing a setting
 * expects; two changes at the same instant keep one of them whole.
 */
export class ObjectConversationSettings implements ConversationSettingsStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
  ) {}

  /** The object of a conversation's settings. */
  key(conversationId: string): string {
    return `${normalizePrefix(this.prefix)}settings/${safeSegment(conversationId)}.json`;
  }

  async read(conversationId: string): Promise<ConversationSettings> {
    const body = await this.store.get(this.key(conversationId));
    return body === undefined ? {} : decode(body);
  }

  async write(conversationId: string, settings: ConversationSettings): Promise<void> {
    const value: ConversationSettings = {
      ...(settings.model !== undefined ? { model: settings.model } : {}),
      ...(settings.system !== undefined ? { system: settings.system.slice(0, MAX_CONVERSATION_SYSTEM_CHARS) } : {}),
      ...(settings.updatedBy !== undefined ? { updatedBy: settings.updatedBy } : {}),
      ...(settings.updatedAt !== undefined ? { updatedAt: settings.updatedAt } : {}),
    };
    await this.store.put(this.key(conversationId), Buffer.from(JSON.stringify({ v: 1, ...value }), 'utf8'));
  }

  async remove(conversationId: string): Promise<void> {
    await this.store.deleteMany([this.key(conversationId)]);
  }
}
