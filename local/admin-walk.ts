/**
 * Every key under a prefix of the history store, for `npm run admin`. The ObjectStore port lists at most
 * one page (`list(prefix, limit)`, no "start after"), so a bucket is walked by narrowing the prefix: a full
 * page proves every key below its last key's next character was listed, and the rest is listed again one
 * character further. A folder (HISTORY_DIR) is read with readdir, since the filesystem store lists one
 * level only.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '../shared/ports';

/** Keys one LIST asks for (OSS and S3 answer at most 1000). */
export const WALK_PAGE = 1000;

/** Lists running at once while a full page is split. */
const PARALLEL_LISTS = 8;

/**
 * The characters a key may continue with, in byte order: printable ASCII. The bot's own keys use only
 * `-./0-9A-Z_a-z`; anything outside ASCII after a full page is found only when it is a page's last key.
 */
const ALPHABET: readonly string[] = Array.from({ length: 0x7e - 0x20 + 1 }, (_, index) => String.fromCharCode(0x20 + index));

/**
 * What to do with a prefix a split would list next. The stores refuse a prefix with an empty, `.` or `..`
 * segment, a backslash or NUL (shared/adapters/object-key.ts), so no key holds one: `impossible`. A last
 * segment of `.` or `..` may still begin a name (`.hidden`): `expand` it by one more character.
 */
function candidate(prefix: string): 'list' | 'expand' | 'impossible' {
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..' || /[\\\0]/.test(segment))) return 'impossible';
  if (/[\\\0]/.test(last)) return 'impossible';
  return last === '.' || last === '..' ? 'expand' : 'list';
}

/** Reports how many keys were found so far (for progress on stderr). */
export type WalkProgress = (found: number) => void;

/** Lists every key under a prefix. */
export interface KeyWalker {
  /** Every key under `prefix`, in byte order. Throws `StorageError`. */
  keys(prefix: string, progress?: WalkProgress): Promise<string[]>;
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Runs `jobs` with at most `limit` at once. */
async function inParallel(jobs: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next];
      next += 1;
      if (job !== undefined) await job();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

/**
 * A walker over a store whose `list` answers every key under the prefix, however deep (OSS, S3, the
 * memory store). `page` is the size of one LIST (tests make it small).
 */
export function prefixWalker(store: ObjectStore, page: number = WALK_PAGE): KeyWalker {
  return {
    async keys(prefix, progress) {
      const found: string[] = [];
      const walk = async (current: string): Promise<void> => {
        const listed = await store.list(current, page);
        if (listed.length < page) {
          found.push(...listed);
          progress?.(found.length);
          return;
        }
        // A full page: every key whose next character sorts before the last key's was listed.
        const last = listed[listed.length - 1] ?? current;
        const pivot = last.charAt(current.length);
        for (const key of listed) if (key.length === current.length || key.charAt(current.length) < pivot) found.push(key);
        progress?.(found.length);
        const rest = [pivot, ...ALPHABET.filter((char) => char > pivot)];
        await inParallel(
          rest.map((char) => () => next(current + char)),
          PARALLEL_LISTS,
        );
      };
      const next = async (current: string): Promise<void> => {
        const what = candidate(current);
        if (what === 'list') await walk(current);
        else if (what === 'expand') for (const char of ALPHABET) await next(current + char);
      };
      await walk(prefix);
      return [...new Set(found)].sort(byteOrder);
    },
  };
}

/** The files under `dir` (relative paths with `/`), temporary files left out; none when it does not exist. */
async function filesUnder(dir: string, relative: string, out: string[], progress?: WalkProgress): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (['ENOENT', 'ENOTDIR'].includes(String((error as { code?: unknown }).code))) return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.tmp-')) continue;
    if (entry.isDirectory()) await filesUnder(path.join(dir, entry.name), `${relative}${entry.name}/`, out, progress);
    else if (entry.isFile()) out.push(`${relative}${entry.name}`);
  }
  progress?.(out.length);
}

/** A walker over a HISTORY_DIR folder: keys are the files' paths under `root`, with `/`; folders and temporary files are left out. */
export function folderWalker(root: string): KeyWalker {
  const base = path.resolve(root);
  return {
    async keys(prefix, progress) {
      // A prefix is a folder (`history/`) or a folder and the start of a name (`history/ab`).
      const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      const found: string[] = [];
      await filesUnder(path.join(base, ...folder.split('/').filter((part) => part !== '')), folder, found, progress);
      return found.filter((key) => key.startsWith(prefix)).sort(byteOrder);
    },
  };
}
