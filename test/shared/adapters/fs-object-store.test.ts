import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../../shared/adapters/fs-object-store';
import { StorageError } from '../../../shared/errors';
import type { Exchange, HistoryKey } from '../../../shared/history/exchange';
import { ExchangeLog } from '../../../shared/history/exchange-log';
import type { ObjectStore } from '../../../shared/ports';

/** Every file under `dir`, as paths relative to it with `/` separators. */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string, relative: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(path.join(current, entry.name), child);
      else found.push(child);
    }
  };
  walk(dir, '');
  return found.sort();
}

/** The StorageError `work` rejects with; fails the test when it resolves or rejects with anything else. */
async function storageError(work: () => Promise<unknown>): Promise<StorageError> {
  try {
    await work();
  } catch (error) {
    if (error instanceof StorageError) return error;
    throw error;
  }
  throw new Error('expected a StorageError');
}

let parent: string;
let root: string;
let store: ObjectStore;

beforeEach(() => {
  parent = mkdtempSync(path.join(os.tmpdir(), 'fs-object-store-'));
  root = path.join(parent, 'root');
  mkdirSync(root);
  store = createFsObjectStore(root);
});

afterEach(() => {
  rmSync(parent, { recursive: true, force: true });
});

const body = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('createFsObjectStore', () => {
  it('describes itself by its folder', () => {
    expect(store.description).toBe(`file://${path.resolve(root)}`);
  });

  it('reads back what it wrote, as a file under the root', async () => {
    expect(await store.put('history/c/u/one.json', body('{"a":"中文"}'))).toBe(true);
    expect((await store.get('history/c/u/one.json'))?.toString('utf8')).toBe('{"a":"中文"}');
    expect(readFileSync(path.join(root, 'history', 'c', 'u', 'one.json'), 'utf8')).toBe('{"a":"中文"}');
  });

  it('answers undefined for a missing object or a folder', async () => {
    await store.put('a/b/c', body('x'));
    expect(await store.get('a/b/missing')).toBeUndefined();
    expect(await store.get('nowhere/at/all')).toBeUndefined();
    expect(await store.get('a/b')).toBeUndefined();
  });

  it('overwrites an object on a plain put', async () => {
    await store.put('a/k', body('first'));
    expect(await store.put('a/k', body('second'))).toBe(true);
    expect((await store.get('a/k'))?.toString('utf8')).toBe('second');
  });

  it('lists keys in ascending byte order', async () => {
    for (const name of ['b', 'B', 'a', '_', 'Z', 'é', '0', '9-x', 'aa']) await store.put(`f/${name}`, body(name));
    expect(await store.list('f/', 100)).toEqual(['f/0', 'f/9-x', 'f/B', 'f/Z', 'f/_', 'f/a', 'f/aa', 'f/b', 'f/é']);
  });

  it('lists at most `limit` keys, the first ones', async () => {
    for (const name of ['3', '1', '2', '5', '4']) await store.put(`f/${name}`, body(name));
    expect(await store.list('f/', 2)).toEqual(['f/1', 'f/2']);
    expect(await store.list('f/', 0)).toEqual([]);
  });

  it('filters by a prefix that ends inside a name', async () => {
    for (const name of ['ab1', 'ab2', 'ac', 'b']) await store.put(`f/${name}`, body(name));
    expect(await store.list('f/ab', 10)).toEqual(['f/ab1', 'f/ab2']);
  });

  it('lists nothing for a missing folder', async () => {
    expect(await store.list('missing/folder/', 10)).toEqual([]);
    expect(await store.list('missing/folder/x', 10)).toEqual([]);
  });

  it('writes create-only once: a second ifAbsent put answers false and leaves the content', async () => {
    expect(await store.put('a/once', body('first'), { ifAbsent: true })).toBe(true);
    expect(await store.put('a/once', body('second'), { ifAbsent: true })).toBe(false);
    expect((await store.get('a/once'))?.toString('utf8')).toBe('first');
  });

  it('lets exactly one of many concurrent ifAbsent puts of one key win', async () => {
    const bodies = Array.from({ length: 20 }, (_, i) => `writer ${i}`);
    const results = await Promise.all(bodies.map((text) => store.put('race/key', body(text), { ifAbsent: true })));
    expect(results.filter((won) => won)).toHaveLength(1);
    const winner = bodies[results.indexOf(true)];
    expect((await store.get('race/key'))?.toString('utf8')).toBe(winner);
  });

  it('deletes keys and ignores missing ones', async () => {
    await store.put('d/a', body('a'));
    await store.put('d/b', body('b'));
    await store.deleteMany(['d/a', 'd/missing', 'nowhere/x']);
    expect(await store.list('d/', 10)).toEqual(['d/b']);
  });

  it('leaves no temporary files behind after puts', async () => {
    await store.put('t/a', body('a'));
    await store.put('t/a', body('b'));
    await store.put('t/b', body('b'), { ifAbsent: true });
    await store.put('t/b', body('c'), { ifAbsent: true });
    await Promise.all(Array.from({ length: 5 }, (_, i) => store.put('t/c', body(String(i)), { ifAbsent: true })));
    expect(filesUnder(root)).toEqual(['t/a', 't/b', 't/c']);
    expect(await store.list('t/', 10)).toEqual(['t/a', 't/b', 't/c']);
  });

  const HOSTILE_KEYS = ['../escape', 'a/../../escape', 'a/..', './a', 'a/./b', 'a//b', '/abs/path', 'a/', '', 'a\u0000b', 'a\\..\\..\\escape', '..'];

  it.each(HOSTILE_KEYS)('refuses the key %j for every operation and writes nothing', async (key) => {
    expect((await storageError(() => store.put(key, body('x')))).operation).toBe('write');
    expect((await storageError(() => store.put(key, body('x'), { ifAbsent: true }))).operation).toBe('write');
    expect((await storageError(() => store.get(key))).operation).toBe('read');
    expect((await storageError(() => store.deleteMany([key]))).operation).toBe('delete');
    expect(readdirSync(parent)).toEqual(['root']);
    expect(filesUnder(root)).toEqual([]);
  });

  it.each(['../', '../../etc/', '/etc/', 'a/../../', 'a//b/'])('refuses to list the prefix %j', async (prefix) => {
    expect((await storageError(() => store.list(prefix, 10))).operation).toBe('list');
  });

  it('does not delete a file outside the root through a hostile key', async () => {
    const outside = path.join(parent, 'outside.txt');
    mkdirSync(path.join(root, 'a'));
    writeFileSync(outside, 'keep me');
    await storageError(() => store.deleteMany(['a/../../outside.txt']));
    expect(readFileSync(outside, 'utf8')).toBe('keep me');
  });
});

describe('ExchangeLog over the filesystem store with hostile ids', () => {
  const HOSTILE: HistoryKey[] = [
    { conversationId: '../../etc', userId: '/abs/path' },
    { conversationId: '%2F..%2F', userId: '%2F..%2F' },
    { conversationId: 'a\u0000b', userId: '..' },
    { conversationId: 'c'.repeat(5000), userId: 'u'.repeat(5000) },
    { conversationId: '会话/../..', userId: '用户😀' },
    { conversationId: '.', userId: '\\..\\..\\windows' },
  ];

  it('writes only under root/prefix and reads every history back', async () => {
    const log = new ExchangeLog(store, '/history/', undefined);
    const saved = new Map<HistoryKey, Exchange[]>();
    for (const [index, key] of HOSTILE.entries()) {
      const first: Exchange = { id: ExchangeLog.exchangeId(1_000 + index, `m${index}-1`), at: 1_000 + index, user: `q${index}`, assistant: `a${index}` };
      const second: Exchange = { id: ExchangeLog.exchangeId(2_000 + index, `m${index}-2`), at: 2_000 + index, user: `q${index}'`, assistant: `a${index}'` };
      await log.save(key, first, []);
      await log.save(key, second, [first]);
      saved.set(key, [first, second]);
    }
    for (const [key, exchanges] of saved) expect(await log.loadRecent(key, 10)).toEqual(exchanges);
    expect(readdirSync(parent)).toEqual(['root']);
    expect(readdirSync(root)).toEqual(['history']);
    const files = filesUnder(root);
    // Two exchanges and one recent window per user.
    expect(files).toHaveLength(HOSTILE.length * 3);
    for (const file of files) {
      const segments = file.split('/');
      expect(segments).toHaveLength(4);
      expect(segments[0]).toBe('history');
      expect(segments.slice(1, 3).every((segment) => /^[A-Za-z0-9_-]{1,64}$/.test(segment))).toBe(true);
    }
  });

  it('clears one hostile user without touching the others', async () => {
    const log = new ExchangeLog(store, 'history', undefined);
    for (const [index, key] of HOSTILE.entries()) {
      await log.save(key, { id: ExchangeLog.exchangeId(1_000, `m${index}`), at: 1_000, user: 'q', assistant: 'a' }, []);
    }
    const [target, ...others] = HOSTILE as [HistoryKey, ...HistoryKey[]];
    expect(await log.clear(target)).toBe(1);
    expect(await log.loadRecent(target, 10)).toEqual([]);
    for (const key of others) expect(await log.loadRecent(key, 10)).toHaveLength(1);
  });
});
