/**
 * Ids from DingTalk bodies (`conversationId`, `senderStaffId`/`senderId`, `msgId`) end up in storage
 * keys, and the body is not covered by the signature. On a real filesystem, in a temp folder: hostile
 * ids must never put a file outside the history prefix, and distinct ids must never share a folder.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../../shared/adapters/fs-object-store';
import { StorageError } from '../../../shared/errors';
import { ExchangeLog } from '../../../shared/history/exchange-log';
import { normalizePrefix } from '../../../shared/history/keys';
import type { Exchange, HistoryKey } from '../../../shared/history/exchange';
import { guarantee } from '../../helpers/guarantee';

/** Ids an attacker would put in a forged body. */
const HOSTILE_IDS: Array<[string, string]> = [
  ['a parent step', '../'],
  ['parent steps to /etc/passwd', '../../../../etc/passwd'],
  ['a bare parent', '..'],
  ['a bare dot', '.'],
  ['a slash', '/'],
  ['an absolute path', '/etc/cron.d/evil'],
  ['an encoded slash', '%2F'],
  ['encoded parent steps', '..%2F..%2Fetc'],
  ['a double-encoded slash', '%252F..%252F'],
  ['a NUL byte', 'a\u0000b'],
  ['a lone NUL', '\u0000'],
  ['Windows parent steps', '..\\..\\windows\\system32'],
  ['a Windows drive', 'C:\\Windows'],
  ['a Windows device name', 'CON'],
  ['the store\'s temp-file prefix', '.tmp-abc'],
  ['the history prefix itself', 'history'],
  ['10,000 characters', 'x'.repeat(10_000)],
  ['10,000 characters plus one', 'x'.repeat(10_001)],
  ['emoji', '😀👨‍👩‍👧'],
  ['right-to-left text with an override', '\u202e\u05e9\u05dc\u05d5\u05dd'],
  ['an e with a combining accent (NFD)', 'caf\u0065\u0301'],
  ['a precomposed é (NFC)', 'caf\u00e9'],
  ['upper case', 'MANAGER1234'],
  ['lower case', 'manager1234'],
  ['glob characters', '*?[]'],
  ['blank', ' '],
  ['empty', ''],
];

let dir: string;
let root: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'keys-escape-'));
  root = path.join(dir, 'store');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file under `folder`, as paths relative to it. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)));
}

const exchange = (at: number, msgId: string, user: string): Exchange => ({ id: ExchangeLog.exchangeId(at, msgId), at, user, assistant: `re: ${user}` });

/** Keys pairing each hostile id with a plain one and with the next hostile id, on both sides. */
function hostileKeys(): HistoryKey[] {
  const ids = HOSTILE_IDS.map(([, id]) => id);
  return ids.flatMap((id, index) => [
    { conversationId: id, userId: 'manager1234' },
    { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: id },
    { conversationId: id, userId: ids[(index + 1) % ids.length] ?? '' },
  ]);
}

describe(guarantee('Storage keys stay in their prefix'), () => {
  it('keeps every file inside the history prefix when saving under hostile conversation, user and message ids', async () => {
    const log = new ExchangeLog(createFsObjectStore(root), 'history/');
    const keys = hostileKeys();
    for (const [index, key] of keys.entries()) {
      const [, msgId] = HOSTILE_IDS[index % HOSTILE_IDS.length] ?? ['', ''];
      await log.save(key, exchange(1_732_000_000_000 + index, msgId, `q${index}`), []);
    }
    const everything = await filesUnder(dir);
    // Each key's exchange and its folder's recent window (keys that collapse to one folder share it).
    expect(everything.filter((file) => !file.endsWith(`${path.sep}recent.json`))).toHaveLength(keys.length);
    for (const file of everything) {
      expect(file.startsWith(`store${path.sep}history${path.sep}`)).toBe(true);
      // <prefix>/<conversation>/<user>/<exchange>: exactly four levels, none of them a dot segment.
      const segments = file.split(path.sep).slice(1);
      expect(segments).toHaveLength(4);
      for (const segment of segments) expect(segment).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
      expect(segments.slice(1, 3).every((segment) => !segment.includes('.'))).toBe(true);
    }
  });

  it('never lets two distinct hostile keys share a folder, even on a case-insensitive or normalising filesystem', async () => {
    const log = new ExchangeLog(createFsObjectStore(root), 'history/');
    const keys = hostileKeys();
    const unique = [...new Map(keys.map((key) => [JSON.stringify(key), key])).values()];
    for (const [index, key] of unique.entries()) await log.save(key, exchange(1_732_000_000_000, `m${index}`, `q${index}`), []);

    const folders = (await filesUnder(root)).map((file) => path.dirname(file));
    expect(new Set(folders).size).toBe(unique.length);
    expect(new Set(folders.map((folder) => folder.normalize('NFKC').toLowerCase())).size).toBe(unique.length);
    // Each key reads back its own exchange and nobody else's.
    for (const [index, key] of unique.entries()) {
      expect((await log.loadRecent(key, 5)).map((item) => item.user)).toEqual([`q${index}`]);
    }
  });

  it('clears only the hostile key asked for, and leaves nothing outside the prefix', async () => {
    const store = createFsObjectStore(root);
    const log = new ExchangeLog(store, 'history/');
    const keys = hostileKeys().slice(0, 30);
    for (const [index, key] of keys.entries()) await log.save(key, exchange(1_732_000_000_000, `m${index}`, `q${index}`), []);
    const outsider: HistoryKey = { conversationId: 'cid-plain', userId: 'user-plain' };
    await log.save(outsider, exchange(1_732_000_000_000, 'plain', 'kept'), []);

    for (const key of keys) expect(await log.clear(key)).toBe(1);
    expect((await log.loadRecent(outsider, 5)).map((item) => item.user)).toEqual(['kept']);
    expect(await filesUnder(dir)).toEqual([
      expect.stringMatching(/^store[/\\]history[/\\].*\.json$/),
      expect.stringMatching(/^store[/\\]history[/\\].*[/\\]recent\.json$/),
    ]);
  });

  it('keeps a hostile HISTORY_PREFIX inside the store folder', async () => {
    for (const prefix of ['../../outside/', '/etc/', '..\\..\\outside\\', './../history']) {
      const log = new ExchangeLog(createFsObjectStore(root), prefix);
      await log.save({ conversationId: '../', userId: '../' }, exchange(1_732_000_000_000, '../', 'q'), []);
    }
    for (const file of await filesUnder(dir)) expect(file.startsWith(`store${path.sep}`)).toBe(true);
  });

  it.each([
    ['..\\..\\outside\\', 'outside/'],
    ['history\\', 'history/'],
    ['a\\..\\b/./c', 'a/b/c/'],
  ])('reads backslashes in HISTORY_PREFIX %j as separators (%j), so no dot segment survives', (prefix, expected) => {
    expect(normalizePrefix(prefix)).toBe(expected);
  });

  describe('the filesystem store on its own, for keys built by anything else', () => {
    const ESCAPING_KEYS = [
      '../outside.json',
      'history/../../outside.json',
      'history/a/../../../outside.json',
      '/etc/outside.json',
      'history//outside.json',
      'history/./outside.json',
      'history\\..\\..\\outside.json',
      'history/a\u0000b/outside.json',
      '',
    ];

    it.each(ESCAPING_KEYS.map((key) => [JSON.stringify(key), key]))('refuses to write, read or delete %s', async (_label, key) => {
      const store = createFsObjectStore(root);
      await expect(store.put(key, Buffer.from('x'))).rejects.toBeInstanceOf(StorageError);
      await expect(store.put(key, Buffer.from('x'), { ifAbsent: true })).rejects.toBeInstanceOf(StorageError);
      await expect(store.get(key)).rejects.toBeInstanceOf(StorageError);
      await expect(store.deleteMany([key])).rejects.toBeInstanceOf(StorageError);
      expect(await filesUnder(dir)).toEqual([]);
    });

    it.each(['../', '../../', 'history/../../', '/etc/'])('refuses to list %j', async (prefix) => {
      await expect(createFsObjectStore(root).list(prefix, 10)).rejects.toBeInstanceOf(StorageError);
    });
  });
});
