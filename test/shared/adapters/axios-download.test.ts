/**
 * The downloader of the files users send (DingTalk's signed download links), with real axios against a
 * loopback server: it brings the bytes and the server's content type, sends no Content-Type (the link's
 * signature covers it), stops reading as soon as more than `maxBytes` arrived, bounds the time of headers
 * and body, and names the host in its errors, never the link (its query is a credential).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { createAxiosDownloader } from '../../../shared/adapters/axios-download';
import { DownloadError, describeError } from '../../../shared/errors';
import type { Downloader } from '../../../shared/ports';
import { listenOnLoopback, type LoopbackServer } from '../../fakes/http-helpers';

/** The signed query of a DingTalk download link: a credential that must never reach a message or a log. */
const SECRET_QUERY = 'Expires=1732000000&OSSAccessKeyId=LTAIsecretkeyid0001&Signature=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D';
const SECRET_PARTS = ['LTAIsecretkeyid0001', 'c2VjcmV0LXNpZ25hdHVyZQ', 'Signature=', 'OSSAccessKeyId'];

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4a40000000049454e44ae426082',
  'hex',
);

/** What the server saw of one request, and how its answer ended. */
interface Served {
  path: string;
  headers: IncomingMessage['headers'];
  /** Body bytes the server handed to the socket before the answer ended. */
  written: number;
  /** Resolves when the answer is over: `finished` when every byte was sent, else the client went away first. */
  ended: Promise<'finished' | 'closed early'>;
}

/** Writes `total` bytes in `chunk`-sized pieces, waiting for the socket to drain, until done or the client leaves. */
async function stream(res: ServerResponse, served: Served, total: number, chunk: number): Promise<void> {
  const piece = Buffer.alloc(chunk, 0x61);
  while (served.written < total && !res.destroyed) {
    const size = Math.min(chunk, total - served.written);
    served.written += size;
    if (!res.write(size === chunk ? piece : piece.subarray(0, size))) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!res.destroyed) res.end();
}

/** Total size of the oversized bodies: far more than any bound below, so reading it all would show. */
const OVERSIZED = 32 * 1024 * 1024;
const BOUND = 64 * 1024;

let server: LoopbackServer;
const served: Served[] = [];
const pending = new Set<ServerResponse>();

beforeAll(async () => {
  server = await listenOnLoopback(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback.invalid');
    let settle: (how: 'finished' | 'closed early') => void = () => undefined;
    const record: Served = { path: url.pathname, headers: req.headers, written: 0, ended: new Promise((resolve) => (settle = resolve)) };
    served.push(record);
    res.on('close', () => {
      pending.delete(res);
      settle(res.writableFinished ? 'finished' : 'closed early');
    });
    pending.add(res);
    switch (url.pathname) {
      case '/picture.png':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length) }).end(PNG);
        return;
      case '/untyped':
        res.writeHead(200, { 'content-length': '5' }).end('hello');
        return;
      case '/exact':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BOUND) }).end(Buffer.alloc(BOUND, 1));
        return;
      case '/declared-large':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(OVERSIZED) });
        await stream(res, record, OVERSIZED, 16 * 1024);
        return;
      case '/chunked-large':
        // No Content-Length: the body only shows its size by growing.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' });
        await stream(res, record, OVERSIZED, 16 * 1024);
        return;
      case '/gzip-bomb': {
        // A few KB on the wire that inflate far past any bound.
        const packed = gzipSync(Buffer.alloc(OVERSIZED));
        res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip', 'content-length': String(packed.length) }).end(packed);
        return;
      }
      case '/chunked-small': {
        // No Content-Length, a body of several chunks within the bound.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' });
        await stream(res, record, 3 * 16 * 1024 + 100, 16 * 1024);
        return;
      }
      case '/gzip-small': {
        // A Content-Length of the compressed bytes, far below the inflated body (still within the bound).
        const packed = gzipSync(Buffer.alloc(BOUND - 1, 0x62));
        res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip', 'content-length': String(packed.length) }).end(packed);
        return;
      }
      case '/status':
        res.writeHead(Number(url.searchParams.get('code') ?? '500'), { 'content-type': 'text/html' }).end('<html>no</html>');
        return;
      case '/silent':
        // Never answers: the headers never come.
        return;
      case '/trickle': {
        // Headers at once, then a byte now and then, forever: only a bound on the whole download ends it.
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(PNG.subarray(0, 8));
        const timer = setInterval(() => res.write('x'), 20);
        res.on('close', () => clearInterval(timer));
        return;
      }
      default:
        res.writeHead(404).end();
    }
  });
});

afterEach(() => {
  served.length = 0;
});

afterAll(async () => {
  for (const res of pending) res.destroy();
  await server.close();
});

/** The server's URL of `path` with the signed query. */
const link = (path: string, extra = ''): string => `${server.url}${path}?${SECRET_QUERY}${extra}`;

/** The DownloadError `promise` rejects with; fails the test if it resolves or throws anything else. */
async function downloadError(promise: Promise<unknown>): Promise<DownloadError> {
  const error = await promise.then(
    () => new Error('the download succeeded'),
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DownloadError)) throw new Error(`expected a DownloadError, got ${String(error)}`);
  return error;
}

/** The error's message and its log form never hold the link's query. */
function expectNoCredential(error: DownloadError): void {
  const visible = `${error.message} ${JSON.stringify(describeError(error))}`;
  for (const part of SECRET_PARTS) expect(visible).not.toContain(part);
}

describe('createAxiosDownloader against a loopback server', () => {
  let downloader: Downloader;
  beforeEach(() => {
    downloader = createAxiosDownloader({ timeoutMs: 2_000 });
  });

  it('brings the bytes and the content type the server gave', async () => {
    const downloaded = await downloader.download(link('/picture.png'), { maxBytes: 1024 });
    expect(downloaded.bytes.equals(PNG)).toBe(true);
    expect(downloaded.contentType).toBe('image/png');
  });

  it('leaves the content type out when the server sent none', async () => {
    const downloaded = await downloader.download(link('/untyped'), { maxBytes: 1024 });
    expect(downloaded.bytes.toString()).toBe('hello');
    expect(downloaded).not.toHaveProperty('contentType');
  });

  it('sends the link as given, query included, and no Content-Type header (the signature covers it)', async () => {
    await downloader.download(link('/picture.png'), { maxBytes: 1024 });
    expect(served).toHaveLength(1);
    expect(served[0]?.headers).not.toHaveProperty('content-type');
    expect(served[0]?.path).toBe('/picture.png');
  });

  it('takes a body of exactly maxBytes', async () => {
    const downloaded = await downloader.download(link('/exact'), { maxBytes: BOUND });
    expect(downloaded.bytes.length).toBe(BOUND);
  });

  it('joins a body without Content-Length from its chunks', async () => {
    const downloaded = await downloader.download(link('/chunked-small'), { maxBytes: BOUND });
    expect(downloaded.bytes.equals(Buffer.alloc(3 * 16 * 1024 + 100, 0x61))).toBe(true);
  });

  it('brings a compressed body whole when it inflates past its Content-Length but within the bound', async () => {
    const downloaded = await downloader.download(link('/gzip-small'), { maxBytes: BOUND });
    expect(downloaded.bytes.equals(Buffer.alloc(BOUND - 1, 0x62))).toBe(true);
  });

  it.each<[string, string]>([
    ['a Content-Length over the bound', '/declared-large'],
    ['a chunked body that grows past the bound', '/chunked-large'],
  ])("refuses %s as 'too-large' and stops reading: the server sees the connection closed early", async (_name, path) => {
    const error = await downloadError(downloader.download(link(path), { maxBytes: BOUND }));
    expect(error.reason).toBe('too-large');
    expect(error.message).toContain(String(BOUND));
    expectNoCredential(error);
    const answer = served[0];
    if (answer === undefined) throw new Error('the server saw no request');
    await expect(answer.ended).resolves.toBe('closed early');
    expect(answer.written).toBeLessThan(OVERSIZED);
  });

  it("counts the bytes as they inflate: a small compressed body that inflates past the bound is 'too-large'", async () => {
    const error = await downloadError(downloader.download(link('/gzip-bomb'), { maxBytes: BOUND }));
    expect(error.reason).toBe('too-large');
    expectNoCredential(error);
  });

  it.each<[number]>([[403], [404], [500]])("answers HTTP %i as 'http' with the status, naming the host and not the link", async (status) => {
    const error = await downloadError(downloader.download(link('/status', `&code=${status}`), { maxBytes: BOUND }));
    expect(error.reason).toBe('http');
    expect(error.status).toBe(status);
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expect(error.message).toContain(String(status));
    expectNoCredential(error);
  });

  it("answers an unreachable host as 'network', naming the host and not the link", async () => {
    const closed = await listenOnLoopback(async (_req, res) => void res.end());
    const port = closed.port;
    await closed.close();
    const error = await downloadError(downloader.download(`http://127.0.0.1:${port}/file?${SECRET_QUERY}`, { maxBytes: BOUND }));
    expect(error.reason).toBe('network');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expectNoCredential(error);
  });

  it("answers a server that never sends its headers as 'timeout'", async () => {
    const quick = createAxiosDownloader({ timeoutMs: 200 });
    const error = await downloadError(quick.download(link('/silent'), { maxBytes: BOUND }));
    expect(error.reason).toBe('timeout');
    expect(error.message).toContain(`127.0.0.1:${server.port}`);
    expectNoCredential(error);
  });

  it("answers a body that keeps trickling past the download's time as 'timeout', not only when the run ends", async () => {
    const quick = createAxiosDownloader({ timeoutMs: 300 });
    // The run's own deadline is far away (it only keeps a broken bound from hanging the test): only the
    // downloader's bound can end this download in time.
    const run = new AbortController();
    const runEnds = setTimeout(() => run.abort(), 5_000);
    const error = await downloadError(quick.download(link('/trickle'), { maxBytes: 16 * 1024 * 1024, signal: run.signal }));
    clearTimeout(runEnds);
    expect(error.reason).toBe('timeout');
    expect(run.signal.aborted).toBe(false);
    expectNoCredential(error);
  });

  it("answers a signal aborted before the download as 'deadline' and sends nothing", async () => {
    const run = new AbortController();
    run.abort();
    const error = await downloadError(downloader.download(link('/picture.png'), { maxBytes: BOUND, signal: run.signal }));
    expect(error.reason).toBe('deadline');
    expectNoCredential(error);
    expect(served).toHaveLength(0);
  });

  it("answers the run's deadline ending a download under way as 'deadline'", async () => {
    const run = new AbortController();
    const downloading = downloader.download(link('/silent'), { maxBytes: BOUND, signal: run.signal });
    await waitFor(() => served.length === 1);
    run.abort();
    const error = await downloadError(downloading);
    expect(error.reason).toBe('deadline');
    expectNoCredential(error);
  });

  it("refuses a link that is not a URL as 'http' without repeating it", async () => {
    const error = await downloadError(downloader.download(`not a url ${SECRET_QUERY}`, { maxBytes: BOUND }));
    expect(error.reason).toBe('http');
    expectNoCredential(error);
  });
});

/** Waits until `condition` holds (the server saw the request), polling the event loop. */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
