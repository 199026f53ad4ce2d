import { pictureMediaType, type PictureMediaType } from '../media/media-type';
import type { ObjectStore } from '../ports';
import type { HistoryKey } from './exchange';
import { normalizePrefix, safeSegment } from './keys';

/** A picture kept with the exchange it was asked about. */
export interface StoredPicture {
  bytes: Buffer;
  mediaType: PictureMediaType;
}

/**
 * The pictures of each user's newest exchange that had any, so a follow-up question about "this
 * picture" still has it. Older pictures are deleted as a newer one arrives: storage holds at most one
 * exchange's pictures per user and conversation.
 */
export interface PictureStore {
  /** Keeps `pictures` for `exchangeId`, unless a newer exchange's are kept already; deletes older ones. */
  keep(key: HistoryKey, exchangeId: string, pictures: readonly StoredPicture[]): Promise<void>;
  /** The pictures kept for `exchangeId` (none when they were replaced by a newer exchange's). */
  load(key: HistoryKey, exchangeId: string): Promise<StoredPicture[]>;
  /** Deletes every picture of the user in the conversation (`\clear`); answers how many. */
  clear(key: HistoryKey): Promise<number>;
}

/** Pictures per exchange at most (a rich text message may carry several). */
const MAX_LISTED = 100;

/** The exchange a stored picture's name belongs to: `<exchangeId>.<n>` (exchange ids are `<digits>-<hex>.json`). */
function exchangeOf(name: string): string {
  return name.slice(0, name.lastIndexOf('.'));
}

/**
 * Pictures in the history store, in a folder of their own per user and conversation
 * (`<HISTORY_PREFIX>pictures/<conversation>/<user>/<exchangeId>.<n>`), never in a public place. Exchange ids
 * begin with an inverted time, so the smallest name is the newest exchange.
 */
export class ObjectPictureStore implements PictureStore {
  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
  ) {}

  private folder(key: HistoryKey): string {
    return `${normalizePrefix(this.prefix)}pictures/${safeSegment(key.conversationId)}/${safeSegment(key.userId)}/`;
  }

  async keep(key: HistoryKey, exchangeId: string, pictures: readonly StoredPicture[]): Promise<void> {
    if (pictures.length === 0) return;
    const folder = this.folder(key);
    const existing = await this.store.list(folder, MAX_LISTED);
    const names = existing.map((listed) => listed.slice(folder.length));
    if (names.some((name) => exchangeOf(name) < exchangeId)) return;
    for (const [index, picture] of pictures.entries()) {
      await this.store.put(`${folder}${exchangeId}.${index}`, picture.bytes);
    }
    const older = existing.filter((listed) => exchangeOf(listed.slice(folder.length)) > exchangeId);
    if (older.length > 0) await this.store.deleteMany(older);
  }

  async load(key: HistoryKey, exchangeId: string): Promise<StoredPicture[]> {
    const folder = this.folder(key);
    const listed = await this.store.list(`${folder}${exchangeId}.`, MAX_LISTED);
    const pictures: StoredPicture[] = [];
    for (const objectKey of listed.sort((a, b) => Number(a.slice(a.lastIndexOf('.') + 1)) - Number(b.slice(b.lastIndexOf('.') + 1)))) {
      const bytes = await this.store.get(objectKey);
      const mediaType = bytes !== undefined ? pictureMediaType(bytes) : undefined;
      if (bytes !== undefined && mediaType !== undefined) pictures.push({ bytes, mediaType });
    }
    return pictures;
  }

  async clear(key: HistoryKey): Promise<number> {
    const listed = await this.store.list(this.folder(key), MAX_LISTED);
    if (listed.length > 0) await this.store.deleteMany(listed);
    return listed.length;
  }
}
