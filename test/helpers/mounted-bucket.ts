import { open, type FileHandle } from 'node:fs/promises';
import { createFsObjectStore, type FsOperations } from '../../shared/adapters/fs-object-store';
import type { ObjectStore } from '../../shared/ports';

/** `link` as a filesystem without hard links (an OSS bucket mounted into FC) answers it. */
export const noLinks: FsOperations['link'] = () => Promise.reject(Object.assign(new Error('operation not permitted'), { code: 'EPERM' }));

/** `open` whose handles wait `latencyMs` before each write, so a created file shows empty for a while, as on a mount. */
export function slowOpen(latencyMs: number): FsOperations['open'] {
  return (async (file: Parameters<typeof open>[0], flags?: Parameters<typeof open>[1]) => {
    const handle = await open(file, flags);
    return new Proxy(handle, {
      get(target, property) {
        if (property === 'writeFile') {
          return async (...args: Parameters<FileHandle['writeFile']>) => {
            await new Promise((resolve) => setTimeout(resolve, latencyMs));
            return target.writeFile(...args);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }) as FsOperations['open'];
}

/** A filesystem store in `dir` that behaves like a mounted bucket: no hard links, writes `latencyMs` slow. */
export function mountedBucketStore(dir: string, latencyMs: number): ObjectStore {
  return createFsObjectStore(dir, { fs: { link: noLinks, open: slowOpen(latencyMs) } });
}
