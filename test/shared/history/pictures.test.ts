/**
 * The picture store keeps the pictures of each user's newest exchange that had any, per conversation, so a
 * follow-up question about "this picture" still has it: a newer exchange's pictures replace the older ones,
 * an older exchange (a late retry) never replaces newer ones, `\clear` deletes them all, and every key stays
 * in the user's own folder under `<prefix>pictures/`, whatever the ids are.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../../shared/adapters/fs-object-store';
import { MemoryObjectStore } from '../../../shared/adapters/memory-object-store';
import type { HistoryKey } from '../../../shared/history/exchange';
import { ExchangeLog } from '../../../shared/history/exchange-log';
import { safeSegment } from '../../../shared/history/keys';
import { ObjectPictureStore, type StoredPicture } from '../../../shared/history/pictures';
import type { ObjectStore } from '../../../shared/ports';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A distinct picture of each type: a valid signature followed by `tag`. */
const png = (tag: string): StoredPicture => ({ bytes: Buffer.concat([PNG_SIGNATURE, Buffer.from(tag)]), mediaType: 'image/png' });
const jpeg = (tag: string): StoredPicture => ({ bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(tag)]), mediaType: 'image/jpeg' });
const gif = (tag: string): StoredPicture => ({ bytes: Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from(tag)]), mediaType: 'image/gif' });
const webp = (tag: string): StoredPicture => ({
  bytes: Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.alloc(4), Buffer.from('WEBP', 'latin1'), Buffer.from(tag)]),
  mediaType: 'image/webp',
});

/** An exchange id as the reply core makes them: a later message has a smaller (newer-first) id. */
const exchangeAt = (seconds: number): string => ExchangeLog.exchangeId(1_732_000_000_000 + seconds * 1000, `msg-${seconds}`);

const ALICE: HistoryKey = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' };
const BOB: HistoryKey = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'user5678' };
const ALICE_ELSEWHERE: HistoryKey = { conversationId: 'cidGroupChat0001==', userId: 'manager1234' };

/** Pictures compared by what matters: their bytes (as hex, so a mismatch reads) and type, in order. */
const shown = (pictures: readonly StoredPicture[]): Array<{ hex: string; mediaType: string }> =>
  pictures.map((picture) => ({ hex: picture.bytes.toString('hex'), mediaType: picture.mediaType }));

interface StoreUnderTest {
  store: ObjectStore;
  /** Every key the store holds. */
  keys(): Promise<string[]>;
  dispose(): void;
}

const memoryStore = (): StoreUnderTest => {
  const store = new MemoryObjectStore();
  return { store, keys: async () => [...store.objects.keys()].sort(), dispose: () => undefined };
};

const fsStore = (): StoreUnderTest => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pictures-test-'));
  const store = createFsObjectStore(root);
  const walk = (dir: string, relative: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      return entry.isDirectory() ? walk(path.join(dir, entry.name), child) : [child];
    });
  return { store, keys: async () => walk(root, '').sort(), dispose: () => rmSync(root, { recursive: true, force: true }) };
};

describe.each<[string, () => StoreUnderTest]>([
  ['the memory store', memoryStore],
  ['the filesystem store', fsStore],
])('ObjectPictureStore over %s', (_name, make) => {
  let under: StoreUnderTest;
  let pictures: ObjectPictureStore;
  beforeEach(() => {
    under = make();
    pictures = new ObjectPictureStore(under.store, 'history/');
  });
  afterEach(() => under.dispose());

  it('loads what it kept: the same bytes and types, in the order they were given', async () => {
    const kept = [png('first'), jpeg('second'), gif('third'), webp('fourth')];
    await pictures.keep(ALICE, exchangeAt(1), kept);
    expect(shown(await pictures.load(ALICE, exchangeAt(1)))).toEqual(shown(kept));
  });

  it('keeps the order of more than ten pictures (index 10 does not come before index 2)', async () => {
    const kept = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? png(`p${i}`) : jpeg(`j${i}`)));
    await pictures.keep(ALICE, exchangeAt(1), kept);
    expect(shown(await pictures.load(ALICE, exchangeAt(1)))).toEqual(shown(kept));
  });

  it('loads nothing for an exchange it never kept pictures of', async () => {
    await pictures.keep(ALICE, exchangeAt(1), [png('one')]);
    expect(await pictures.load(ALICE, exchangeAt(2))).toEqual([]);
    expect(await pictures.load(BOB, exchangeAt(1))).toEqual([]);
  });

  it("deletes the older exchange's pictures when a newer exchange's are kept", async () => {
    await pictures.keep(ALICE, exchangeAt(1), [png('old-a'), jpeg('old-b')]);
    await pictures.keep(ALICE, exchangeAt(2), [gif('new')]);
    expect(await pictures.load(ALICE, exchangeAt(1))).toEqual([]);
    expect(shown(await pictures.load(ALICE, exchangeAt(2)))).toEqual(shown([gif('new')]));
    const keys = await under.keys();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toContain(exchangeAt(2));
  });

  it("keeps nothing for an older exchange that arrives after a newer one, and deletes nothing of the newer one's", async () => {
    await pictures.keep(ALICE, exchangeAt(5), [png('newer-a'), png('newer-b')]);
    const before = await under.keys();
    await pictures.keep(ALICE, exchangeAt(4), [jpeg('late')]);
    expect(await under.keys()).toEqual(before);
    expect(await pictures.load(ALICE, exchangeAt(4))).toEqual([]);
    expect(shown(await pictures.load(ALICE, exchangeAt(5)))).toEqual(shown([png('newer-a'), png('newer-b')]));
  });

  it('keeps the same pictures once when the same exchange is kept again (a retry of the run)', async () => {
    await pictures.keep(ALICE, exchangeAt(3), [png('a'), jpeg('b')]);
    await pictures.keep(ALICE, exchangeAt(3), [png('a'), jpeg('b')]);
    expect(await under.keys()).toHaveLength(2);
    expect(shown(await pictures.load(ALICE, exchangeAt(3)))).toEqual(shown([png('a'), jpeg('b')]));
  });

  it('keeps nothing and deletes nothing for an exchange without pictures', async () => {
    await pictures.keep(ALICE, exchangeAt(1), [png('kept')]);
    await pictures.keep(ALICE, exchangeAt(2), []);
    expect(shown(await pictures.load(ALICE, exchangeAt(1)))).toEqual(shown([png('kept')]));
  });

  it('keeps each user and each conversation apart: a newer picture of one never deletes another\'s', async () => {
    await pictures.keep(ALICE, exchangeAt(1), [png('alice')]);
    await pictures.keep(BOB, exchangeAt(2), [jpeg('bob')]);
    await pictures.keep(ALICE_ELSEWHERE, exchangeAt(3), [gif('alice-group')]);
    expect(shown(await pictures.load(ALICE, exchangeAt(1)))).toEqual(shown([png('alice')]));
    expect(shown(await pictures.load(BOB, exchangeAt(2)))).toEqual(shown([jpeg('bob')]));
    expect(shown(await pictures.load(ALICE_ELSEWHERE, exchangeAt(3)))).toEqual(shown([gif('alice-group')]));
  });

  it("clears every picture of the user in the conversation, says how many, and leaves everyone else's", async () => {
    await pictures.keep(ALICE, exchangeAt(1), [png('a'), jpeg('b'), gif('c')]);
    await pictures.keep(BOB, exchangeAt(1), [png('bob')]);
    await pictures.keep(ALICE_ELSEWHERE, exchangeAt(1), [png('elsewhere')]);
    expect(await pictures.clear(ALICE)).toBe(3);
    expect(await pictures.load(ALICE, exchangeAt(1))).toEqual([]);
    expect(await pictures.clear(ALICE)).toBe(0);
    expect(await pictures.load(BOB, exchangeAt(1))).toHaveLength(1);
    expect(await pictures.load(ALICE_ELSEWHERE, exchangeAt(1))).toHaveLength(1);
  });

  it('puts every key under <prefix>pictures/<conversation>/<user>/', async () => {
    await pictures.keep(ALICE, exchangeAt(1), [png('a'), jpeg('b')]);
    const folder = `history/pictures/${safeSegment(ALICE.conversationId)}/${safeSegment(ALICE.userId)}/`;
    expect(await under.keys()).toEqual([`${folder}${exchangeAt(1)}.0`, `${folder}${exchangeAt(1)}.1`]);
  });

  it.each<[string, HistoryKey, string]>([
    ['ids that climb out of the folder', { conversationId: '../../..', userId: '../../../etc/passwd' }, 'history/'],
    ['ids with slashes and encoded dots', { conversationId: 'a/b/%2e%2e/c', userId: '/absolute\\back' }, 'history/'],
    ['empty ids', { conversationId: '', userId: '' }, 'history/'],
    ['a prefix that climbs out', { conversationId: 'cid==', userId: 'u1' }, '../../outside/./'],
  ])('keeps every key in its own folder under the prefix for %s', async (_name, key, prefix) => {
    const hostile = new ObjectPictureStore(under.store, prefix);
    await pictures.keep(ALICE, exchangeAt(1), [png('alice')]);
    await hostile.keep(key, exchangeAt(2), [png('hostile-a'), jpeg('hostile-b')]);
    const keys = await under.keys();
    const folder = `${prefix === 'history/' ? 'history/' : 'outside/'}pictures/${safeSegment(key.conversationId)}/${safeSegment(key.userId)}/`;
    expect(keys.filter((objectKey) => !objectKey.includes(safeSegment(ALICE.userId)))).toEqual([
      `${folder}${exchangeAt(2)}.0`,
      `${folder}${exchangeAt(2)}.1`,
    ]);
    for (const objectKey of keys) expect(objectKey.split('/')).not.toContain('..');
    expect(shown(await hostile.load(key, exchangeAt(2)))).toEqual(shown([png('hostile-a'), jpeg('hostile-b')]));
    // The hostile user's newer pictures and clear never touch anyone else's.
    expect(await hostile.clear(key)).toBe(2);
    expect(shown(await pictures.load(ALICE, exchangeAt(1)))).toEqual(shown([png('alice')]));
  });
});
