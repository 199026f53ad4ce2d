/**
 * The filesystem store where hard links do not exist (an OSS bucket mounted into FC): create-only
 * writes fall back to an exclusive create, which shows the file before its content. With writes as slow
 * as a mounted bucket's, one message delivered to six runs must still get one claim.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClaimResult, HistoryKey } from '../../../shared/history/exchange';
import { ExchangeLog } from '../../../shared/history/exchange-log';
import { historyFolder } from '../../../shared/history/keys';
import { guarantee } from '../../helpers/guarantee';
import { mountedBucketStore } from '../../helpers/mounted-bucket';

const KEY: HistoryKey = { conversationId: 'cidMountedBucket==', userId: 'staff-1' };
const LEASE_MS = 180_000;
/** What a write costs on a mounted bucket. */
const WRITE_LATENCY_MS = 20;


let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'fs-no-links-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const mountedStore = () => mountedBucketStore(root, WRITE_LATENCY_MS);

describe(guarantee('Exactly one answer per message'), () => {
  describe('filesystem store without hard links (e.g. a mounted OSS bucket), slow writes', () => {
    it('gives one of six runs delivered the same message the claim; the others find it busy', async () => {
      const exchangeId = ExchangeLog.exchangeId(1_732_000_000_000, 'msg-delivered-six-times');
      const now = Date.now();
      // Six runs, as six FC instances would be: each with its own store and log over the same folder.
      const results: ClaimResult[] = await Promise.all(
        Array.from({ length: 6 }, (_, run) =>
          new ExchangeLog(mountedStore(), 'history/').claim(KEY, exchangeId, { at: now, owner: `request-${run}`, leaseMs: LEASE_MS }),
        ),
      );
      expect(results.filter((result) => result.kind === 'claimed')).toEqual([{ kind: 'claimed', tookOver: false }]);
      expect(results.filter((result) => result.kind === 'busy')).toHaveLength(5);
    });

    it('takes over a claim that cannot be read once its lease has run out since it was written', async () => {
      const exchangeId = ExchangeLog.exchangeId(1_732_000_000_000, 'msg-abandoned');
      const file = path.join(root, ...`${historyFolder('history/', KEY)}${exchangeId}`.split('/'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, '{"state":"pen'); // a run died while writing its claim
      const log = new ExchangeLog(mountedStore(), 'history/');
      const written = Date.now();
      expect(await log.claim(KEY, exchangeId, { at: written + 1_000, leaseMs: LEASE_MS })).toMatchObject({ kind: 'busy' });
      const old = (written - LEASE_MS - 60_000) / 1000;
      utimesSync(file, old, old);
      expect(await log.claim(KEY, exchangeId, { at: written, leaseMs: LEASE_MS })).toEqual({ kind: 'claimed', tookOver: true });
    });

    it('tells when a file was last written, and undefined for a missing one', async () => {
      const store = mountedStore();
      const before = Date.now();
      await store.put('history/a/b', Buffer.from('{}'), { ifAbsent: true });
      expect(await store.get('history/a/b')).toEqual(Buffer.from('{}'));
      expect(await store.lastModified?.('history/a/b')).toBeGreaterThanOrEqual(before - 1_000);
      expect(await store.lastModified?.('history/a/missing')).toBeUndefined();
    });
  });
});
