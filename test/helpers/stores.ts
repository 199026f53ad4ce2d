import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../shared/adapters/fs-object-store';
import { createOssObjectStore } from '../../shared/adapters/oss-object-store';
import type { ObjectStore } from '../../shared/ports';
import { startOssFake, type OssFake } from '../fakes/oss-fake';
import { STS_CREDENTIALS } from './fc-context';

/** The bucket the OSS fake serves in these tests. */
export const TEST_BUCKET = 'dingtalk-llm-history';

/** Runs `work` on a filesystem store in a fresh temporary folder, removed afterwards. */
export async function withFsStore(name: string, work: (store: ObjectStore) => Promise<unknown>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  try {
    await work(createFsObjectStore(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An OSS fake started before each test of the enclosing `describe` and closed after it, with the real
 * ali-oss client pointed at it: `store()` makes a store, `oss()` is the fake (its counts, its objects).
 */
export function useOssFake(): { store: () => ObjectStore; oss: () => OssFake } {
  let fake: OssFake | undefined;
  beforeEach(async () => {
    fake = await startOssFake({ bucket: TEST_BUCKET, region: 'oss-cn-hangzhou', credentials: [STS_CREDENTIALS] });
  });
  afterEach(() => fake?.close());
  const oss = (): OssFake => {
    if (fake === undefined) throw new Error('the OSS fake runs only inside a test');
    return fake;
  };
  return {
    oss,
    store: () => createOssObjectStore({ bucket: TEST_BUCKET, region: 'cn-hangzhou', endpoint: oss().url, internal: false, credentials: () => STS_CREDENTIALS }),
  };
}

/** All requests an OSS fake counted. */
export const ossRequests = (oss: OssFake): number => Object.values(oss.counts()).reduce((sum, count) => sum + (count ?? 0), 0);
