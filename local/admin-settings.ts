/**
 * Conversation settings (`\model`, `\system`) for `npm run admin`: read through the bot's own store class
 * (shared/history/conversation-settings.ts), found by listing, since a key holds a conversation's segment
 * and not its id.
 */
import type { ConversationSettings } from '../shared/history/conversation-settings';
import type { Inventory } from './admin-inventory';
import type { AdminStore } from './admin-store';
import { isRecord } from '../shared/util/is-record';

/** One conversation's settings, with the object they are in. */
export interface StoredSettings extends ConversationSettings {
  key: string;
  /** The conversation's segment. */
  conversation: string;
}


/** The settings in a stored body (malformed fields left out, as the bot reads them). */
export function decodeSettings(body: Buffer): ConversationSettings {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(value)) return {};
    const settings: ConversationSettings = {};
    if (typeof value.model === 'string' && value.model !== '') settings.model = value.model;
    if (typeof value.system === 'string' && value.system !== '') settings.system = value.system;
    if (typeof value.updatedBy === 'string') settings.updatedBy = value.updatedBy;
    if (typeof value.updatedAt === 'number') settings.updatedAt = value.updatedAt;
    return settings;
  } catch {
    return {};
  }
}

/** Every conversation's settings in the inventory. */
export async function readSettings(admin: AdminStore, inventory: Inventory): Promise<StoredSettings[]> {
  const found: StoredSettings[] = [];
  for (const stored of inventory.keys) {
    if (stored.kind !== 'settings') continue;
    const body = await admin.store.get(stored.key);
    if (body !== undefined) found.push({ ...decodeSettings(body), key: stored.key, conversation: stored.conversation });
  }
  return found;
}
