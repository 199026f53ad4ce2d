import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { StorageError, type StorageOperation } from '../errors';
import type { ObjectStore } from '../ports';

/** Temporary files start with this, so listings skip them. */
const TEMP_PREFIX = '.tmp-';

function fail(operation: StorageOperation, error: unknown): StorageError {
  const code = (error as { code?: unknown }).code;
  const text = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new StorageError(operation, `filesystem ${operation} failed: ${text}`, {
    cause: error,
    ...(typeof code === 'string' ? { code } : {}),
  });
}

const isCode = (error: unknown, ...codes: string[]): boolean => codes.includes(String((error as { code?: unknown }).code));

/** The filesystem calls whose behaviour differs between filesystems; injected by tests (no hard links, slow writes). */
export interface FsOperations {
  link: typeof link;
  open: typeof open;
}

/** Options of `createFsObjectStore`. */
export interface FsObjectStoreOptions {
  /** Replaces some filesystem calls, e.g. a `link` that fails as on an OSS mount. */
  fs?: Partial<FsOperations>;
}

/**
 * History objects as files under a folder: a local directory, or an OSS bucket mounted into FC
 * (e.g. `/mnt/oss`). Writes go to a temporary file first, so a crash never leaves a half-written object;
 * create-only writes use a hard link (atomic, fails if the name exists), falling back to an exclusive
 * create where the filesystem has no links (OSS mounts). That fallback shows the file before its
 * content, so `lastModified` (the file's mtime) lets a reader tell a claim still being written from an
 * abandoned one. On an OSS mount the exclusive create itself is only as atomic as the mount makes it
 * (ossfs checks, then writes): exactly-once needs OSS_BUCKET there (see the README).
 */
export function createFsObjectStore(root: string, options: FsObjectStoreOptions = {}): ObjectStore {
  const base = path.resolve(root);
  const fs: FsOperations = { link, open, ...options.fs };

  const resolve = (key: string, operation: StorageOperation = 'write'): string => {
    const segments = key.split('/');
    for (const segment of segments) {
      if (segment === '' || segment === '.' || segment === '..' || /[\\\0]/.test(segment)) {
        throw new StorageError(operation, `refused key outside the history folder: ${JSON.stringify(key)}`);
      }
    }
    const resolved = path.resolve(base, ...segments);
    if (!resolved.startsWith(base + path.sep)) throw new StorageError(operation, 'refused key outside the history folder');
    return resolved;
  };

  const writeTemp = async (file: string, body: Buffer): Promise<string> => {
    await mkdir(path.dirname(file), { recursive: true });
    const temp = path.join(path.dirname(file), `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    const handle = await fs.open(temp, 'wx');
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  };

  return {
    description: `file://${base}`,

    async list(prefix, limit) {
      const folderKey = prefix.endsWith('/') ? prefix.slice(0, -1) : path.posix.dirname(prefix);
      const namePrefix = prefix.endsWith('/') ? '' : path.posix.basename(prefix);
      let names: string[];
      try {
        names = await readdir(folderKey === '.' || folderKey === '' ? base : resolve(folderKey, 'list'));
      } catch (error) {
        if (isCode(error, 'ENOENT', 'ENOTDIR')) return [];
        throw error instanceof StorageError ? error : fail('list', error);
      }
      const dir = folderKey === '.' || folderKey === '' ? '' : `${folderKey}/`;
      return names
        .filter((name) => !name.startsWith(TEMP_PREFIX) && name.startsWith(namePrefix))
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .slice(0, limit)
        .map((name) => `${dir}${name}`);
    },

    async get(key) {
      try {
        return await readFile(resolve(key, 'read'));
      } catch (error) {
        if (isCode(error, 'ENOENT', 'EISDIR')) return undefined;
        throw error instanceof StorageError ? error : fail('read', error);
      }
    },

    async put(key, body, options) {
      const file = resolve(key);
      let temp: string | undefined;
      try {
        temp = await writeTemp(file, body);
        if (!options?.ifAbsent) {
          await rename(temp, file);
          temp = undefined;
          return true;
        }
        try {
          await fs.link(temp, file);
          return true;
        } catch (error) {
          if (isCode(error, 'EEXIST')) return false;
          if (!isCode(error, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV')) throw error;
        }
        // No hard links here (e.g. an OSS mount): an exclusive create is still create-only.
        try {
          const handle = await fs.open(file, 'wx');
          try {
            await handle.writeFile(body);
          } finally {
            await handle.close();
          }
          return true;
        } catch (error) {
          if (isCode(error, 'EEXIST')) return false;
          throw error;
        }
      } catch (error) {
        throw error instanceof StorageError ? error : fail('write', error);
      } finally {
        if (temp !== undefined) await unlink(temp).catch(() => undefined);
      }
    },

    async lastModified(key) {
      try {
        return (await stat(resolve(key, 'read'))).mtimeMs;
      } catch (error) {
        if (isCode(error, 'ENOENT')) return undefined;
        throw error instanceof StorageError ? error : fail('read', error);
      }
    },

    async deleteMany(keys) {
      for (const key of keys) {
        try {
          await unlink(resolve(key, 'delete'));
        } catch (error) {
          if (!isCode(error, 'ENOENT')) throw error instanceof StorageError ? error : fail('delete', error);
        }
      }
    },
  };
}
