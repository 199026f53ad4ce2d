import { describeError } from '../errors';
import { normalizePrefix, safeSegment } from '../history/keys';
import type { Logger, ObjectStore } from '../ports';
import { sameState, type MemoryState } from './facts';
import { isRecord } from '../util/is-record';
import { abortableSleep } from '../util/abortable-sleep';

/** One person's memory as read: its state and the sequence number of the newest version (0: none yet). */
export interface MemoryVersion extends MemoryState {
  seq: number;
}

/** How three states combine after a conflict: `ours` was made from `base`; `current` is the store's newest. */
export type MergeStates = (base: MemoryState, ours: MemoryState, current: MemoryState) => MemoryState;

/** What a commit did. */
export interface CommitResult {
  /** The version the store holds after the commit (ours, merged with concurrent writes when there were any). */
  version: MemoryVersion;
  /** False when nothing needed writing (the change was already there). */
  written: boolean;
  /** Times other runs' writes were merged in: found before creating, or met as a lost create. */
  conflicts: number;
}

/** Options of {@link MemoryVersions}. */
export interface MemoryVersionsOptions {
  logger?: Logger;
  /** The wait before reading a version again that was listed but not readable yet. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits for a newer version that is listed but not readable yet (being written on a filesystem without hard
 * links) before a writer gives up on it and writes above it: about 1.3 s in all.
 */
const UNREADABLE_WAITS_MS = [20, 40, 80, 160, 320, 640] as const;

/** Upper end of sequence numbers, so version names keep a fixed width of 13 digits. */
const SEQ_CEILING = 9_999_999_999_999;
/**
 * Versions always kept, the newest included: every {@link PRUNE_EVERY}th write deletes the versions at
 * least this far behind it, so a folder holds 8 to 11. A writer checks the newest version just before it
 * creates its own, so a slot freed by this deletion could only be reused by a writer that many writes
 * overtook between that check and its create (one request's time).
 */
const KEEP_VERSIONS = 8;
/** Writes per pruning: one DELETE of several versions every fourth write, rather than one per write. */
const PRUNE_EVERY = 4;
/** Rounds a writer repairs a head that a concurrent writer's slower head write put behind the newest version. */
const HEAD_REPAIRS = 3;
/**
 * The head: a fixed-name copy of the newest facts, for `recall` (one GET, no LIST). It sorts after every
 * version name (a letter after the digits), so listings of the versions never meet it first.
 */
export const HEAD_NAME = 'head.json';
/** Keys one read lists: the newest version and a few behind it, in one LIST. */
const LIST_LIMIT = 8;
/** Conflicts one commit resolves before giving up (10 concurrent writers need at most 9). */
const MAX_ATTEMPTS = 32;


/** The folder of one person's memory: `<prefix>memory/<user>/`, beside the conversations' folders. */
export function memoryFolder(prefix: string, userId: string): string {
  // A conversation's folder is `<readable>-<hash>` or a bare hash: never exactly `memory`.
  return `${normalizePrefix(prefix)}memory/${safeSegment(userId)}/`;
}

/** The object name of version `seq`: inverted, so an ascending listing returns the newest first. */
export function versionName(seq: number): string {
  return `${String(SEQ_CEILING - seq).padStart(13, '0')}.json`;
}

/** The sequence number a version's key names, or undefined for any other key. */
function seqOf(key: string): number | undefined {
  const match = /(?:^|\/)(\d{13})\.json$/.exec(key);
  return match ? SEQ_CEILING - Number(match[1]) : undefined;
}

/** A version's or the head's body: `{v: 1, seq, items, learnedUntil}`, or undefined when it is not one. */
function decodeBody(body: Buffer): (MemoryState & { seq: unknown }) | undefined {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(value) || value.v !== 1 || !Array.isArray(value.items) || typeof value.learnedUntil !== 'number') return undefined;
    if (!value.items.every((item): item is string => typeof item === 'string')) return undefined;
    return { seq: value.seq, items: value.items, learnedUntil: value.learnedUntil };
  } catch {
    return undefined;
  }
}

/** The state a version's body holds (its sequence number comes from its name). */
function decode(body: Buffer): MemoryState | undefined {
  const decoded = decodeBody(body);
  return decoded === undefined ? undefined : { items: decoded.items, learnedUntil: decoded.learnedUntil };
}

/** The head's body: a version's body whose `seq` is a positive integer. */
function decodeHead(body: Buffer): MemoryVersion | undefined {
  const decoded = decodeBody(body);
  if (decoded === undefined || typeof decoded.seq !== 'number' || !Number.isInteger(decoded.seq) || decoded.seq < 1) return undefined;
  return { seq: decoded.seq, items: decoded.items, learnedUntil: decoded.learnedUntil };
}

/** The body of version `seq` (and of the head that copies it). */
function encode(seq: number, state: MemoryState): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, seq, items: state.items, learnedUntil: state.learnedUntil }), 'utf8');
}

/** Whether two lists hold the same facts in the same order: what `recall` answers is then the same. */
function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** An empty memory, as read where nothing was written (version `seq`: 0, or a newest version that cannot be read). */
const empty = (seq = 0): MemoryVersion => ({ seq, items: [], learnedUntil: 0 });

/**
 * One person's memory as a chain of immutable versions in the history store, so concurrent runs never lose
 * an update, with the same create-only discipline as the history: each change is a new object created
 * only if absent (`<prefix>memory/<user>/<inverted seq>.json`, holding `{v: 1, seq, items, learnedUntil}`).
 * Reading the versions is one LIST and one GET (the newest version). A writer that finds its version number
 * taken (another run wrote first) re-reads the newest and merges its own change into it instead of
 * overwriting it, then tries the next number. The few newest versions are kept, older ones deleted every
 * few writes. The folder
 * lies under HISTORY_PREFIX, outside every conversation's folder: `\clear` does not touch it, and a
 * lifecycle rule on the prefix would expire it with the history.
 *
 * On a filesystem without hard links (an OSS mount) a version can be listed before its content is written:
 * a reader then reads the one before it, and a writer that lost its create waits for it (about a second)
 * before merging. A version still unreadable after that (a damaged object) is written above, its change
 * lost, and logged as `memory.version_unreadable`.
 *
 * The head (`<folder>head.json`) is a read cache for the question's path: {@link readHead} is one GET and no
 * LIST. After creating a version, the writer reads the head and overwrites it only when it is older (a
 * lower seq) and shows other facts, then lists the newest version once more and, when a concurrent writer
 * created a newer one meanwhile, copies that one too (a few rounds at most): a slower writer's head write
 * never stays on top of a newer version's. Nothing reads the head to decide a change: `read` and `commit`
 * use the versions only, so a stale head never loses an update. What remains: a writer that stops between
 * its create and its head write (a crash, the deadline, a failed write, logged as `memory.head_failed`), or
 * more racing writers than the repair rounds, leaves the head behind; the questions until the next commit
 * (the next learn, remember or forget of that person) then miss that change's facts.
 */
export class MemoryVersions {
  private readonly logger: Logger | undefined;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly store: ObjectStore,
    private readonly prefix: string,
    options: MemoryVersionsOptions = {},
  ) {
    this.logger = options.logger;
    this.sleep = options.sleep ?? ((ms) => abortableSleep(ms));
  }

  /** The newest version of `userId`'s memory; an empty one (seq 0) when there is none. Throws `StorageError`. */
  async read(userId: string): Promise<MemoryVersion> {
    return (await this.readNewest(userId)).version;
  }

  /**
   * The facts for a question, from the head: one GET. No head means no memory (seq 0, nothing listed). A head
   * that cannot be read (damaged) is logged as `memory.head_unreadable` and the versions are read instead.
   * May lag behind the versions (see the class). Throws `StorageError`.
   */
  async readHead(userId: string): Promise<MemoryVersion> {
    const key = `${memoryFolder(this.prefix, userId)}${HEAD_NAME}`;
    const body = await this.store.get(key);
    if (body === undefined) return empty();
    const head = decodeHead(body);
    if (head !== undefined) return head;
    this.logger?.warn('memory.head_unreadable', { key });
    return this.read(userId);
  }

  /** The newest readable version, and whether a newer one was listed but could not be read. */
  private async readNewest(userId: string): Promise<{ version: MemoryVersion; unreadableHead: boolean }> {
    const folder = memoryFolder(this.prefix, userId);
    for (let attempt = 0; ; attempt += 1) {
      const listed = (await this.store.list(folder, LIST_LIMIT)).filter((key) => seqOf(key) !== undefined);
      const head = listed[0] === undefined ? 0 : (seqOf(listed[0]) ?? 0);
      let vanished = false;
      for (const key of listed) {
        const body = await this.store.get(key);
        if (body === undefined) {
          // Pruned between the listing and the read: newer versions exist, list again.
          vanished = true;
          break;
        }
        const state = decode(body);
        if (state !== undefined) return { version: { seq: head, ...state }, unreadableHead: key !== listed[0] };
        this.logger?.warn('memory.version_unreadable', { key });
      }
      if (!vanished || attempt >= 2) return { version: empty(head), unreadableHead: listed.length > 0 };
    }
  }

  /**
   * Writes `ours` (made from `base`) as the next version. When another run wrote since `base` was read, or
   * writes first, re-reads, merges with `merge(base, ours, current)` and tries again on top of what it found,
   * up to a bound; answers undefined when it gave up. Writes nothing when the result equals what is stored.
   * After a create, brings the head up to date (see the class). Costs, when nobody else wrote: one LIST, the
   * create and a GET of the head; a PUT and a LIST more when the facts changed; a DELETE every fourth write.
   * Throws `StorageError` (a failed head write is only logged: the version is written).
   */
  async commit(userId: string, base: MemoryVersion, ours: MemoryState, merge: MergeStates): Promise<CommitResult | undefined> {
    const folder = memoryFolder(this.prefix, userId);
    let current = base;
    let mine: MemoryState = { items: [...ours.items], learnedUntil: ours.learnedUntil };
    // The base may be old (a learn read it before its LLM call): merge what was written since, first.
    let merged = 0;
    if ((await this.headSeq(folder)) !== current.seq) {
      const newer = await this.readAfterConflict(userId);
      mine = merge(current, mine, newer);
      current = newer;
      merged = 1;
    }
    for (let lost = 0; lost < MAX_ATTEMPTS; lost += 1) {
      const conflicts = merged + lost;
      if (sameState(mine, current)) return { version: current, written: false, conflicts };
      const seq = current.seq + 1;
      if (await this.store.put(`${folder}${versionName(seq)}`, encode(seq, mine), { ifAbsent: true })) {
        const version: MemoryVersion = { seq, ...mine };
        await Promise.all([this.prune(folder, seq), this.publish(userId, version)]);
        return { version, written: true, conflicts };
      }
      const newer = await this.readAfterConflict(userId);
      mine = merge(current, mine, newer);
      current = newer;
    }
    this.logger?.warn('memory.commit_gave_up', { conflicts: MAX_ATTEMPTS });
    return undefined;
  }

  /** Deletes every version of `userId`'s memory and its head (an admin's erase). Answers how many objects were deleted. */
  async erase(userId: string): Promise<number> {
    const folder = memoryFolder(this.prefix, userId);
    let deleted = 0;
    // Bounded: a folder holds a few versions, unless pruning kept failing.
    for (let batch = 0; batch < 10; batch += 1) {
      const keys = await this.store.list(folder, 1000);
      if (keys.length === 0) break;
      await this.store.deleteMany(keys);
      deleted += keys.length;
    }
    return deleted;
  }

  /** The sequence number of the newest version, from one LIST of one key (0: none). */
  private async headSeq(folder: string): Promise<number> {
    const [newest] = await this.store.list(folder, 1);
    return newest === undefined ? 0 : (seqOf(newest) ?? 0);
  }

  /**
   * The newest version after a lost create. A newest version that cannot be read yet is another run's write
   * in progress (a filesystem without hard links shows the file before its content): it is read again after
   * short waits, so that its change is merged rather than written over; one still unreadable after them is
   * taken as damaged and written above.
   */
  private async readAfterConflict(userId: string): Promise<MemoryVersion> {
    let newest = await this.readNewest(userId);
    for (const wait of UNREADABLE_WAITS_MS) {
      if (!newest.unreadableHead) break;
      await this.sleep(wait);
      newest = await this.readNewest(userId);
    }
    return newest.version;
  }

  /**
   * Brings the head up to `version`, just created: overwrites it unless it is as new or already shows the same
   * facts, then lists the newest version and, when a newer one was created meanwhile (its writer's head write
   * may have landed before this one), copies that one the same way, for a few rounds. A newer version that
   * cannot be read yet is left to its writer, who writes the head after it. Never throws: a failure leaves
   * the head behind until the next commit, and is logged.
   */
  private async publish(userId: string, version: MemoryVersion): Promise<void> {
    const folder = memoryFolder(this.prefix, userId);
    const key = `${folder}${HEAD_NAME}`;
    try {
      let next = version;
      for (let round = 0; round < HEAD_REPAIRS; round += 1) {
        const body = await this.store.get(key);
        const head = body === undefined ? undefined : decodeHead(body);
        if (head !== undefined && head.seq >= next.seq) return;
        if (sameItems(head?.items ?? [], next.items)) return;
        await this.store.put(key, encode(next.seq, next));
        if ((await this.headSeq(folder)) <= next.seq) return;
        const newer = await this.readNewest(userId);
        if (newer.unreadableHead || newer.version.seq <= next.seq) return;
        next = newer.version;
      }
      this.logger?.warn('memory.head_behind', { rounds: HEAD_REPAIRS });
    } catch (error) {
      this.logger?.warn('memory.head_failed', { error: describeError(error) });
    }
  }

  /**
   * Every {@link PRUNE_EVERY}th write deletes, by their names (no listing), the versions from `KEEP_VERSIONS`
   * behind `seq` back to where the previous pruning stopped, in one request: the folder keeps the newest
   * few. A failure only leaves those versions behind.
   */
  private async prune(folder: string, seq: number): Promise<void> {
    const newestOld = seq - KEEP_VERSIONS;
    if (seq % PRUNE_EVERY !== 0 || newestOld < 1) return;
    const keys: string[] = [];
    for (let old = Math.max(1, newestOld - PRUNE_EVERY + 1); old <= newestOld; old += 1) keys.push(`${folder}${versionName(old)}`);
    await this.store.deleteMany(keys).catch((error: unknown) => {
      this.logger?.warn('memory.prune_failed', { error: describeError(error) });
    });
  }
}
