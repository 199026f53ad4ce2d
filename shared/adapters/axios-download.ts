import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { Readable } from 'node:stream';
import axios, { isAxiosError, isCancel } from 'axios';
import { DownloadError } from '../errors';
import type { Downloader } from '../ports';

/** Options of {@link createAxiosDownloader}. */
export interface AxiosDownloaderOptions {
  /** Timeout of one download, headers and body. */
  timeoutMs: number;
}

/**
 * Reads `body` into one buffer, refusing it (and closing the connection) as soon as more than `maxBytes`
 * arrived. With `declaredBytes` (Content-Length, when it is within the bound) the buffer is allocated once at
 * that size and each chunk copied in, so the file is held once; a body without it, or one that outgrows it
 * (Content-Length counts compressed bytes, the body arrives inflated), is collected in chunks and joined once.
 */
async function readAtMost(body: Readable, maxBytes: number, declaredBytes: number | undefined): Promise<Buffer> {
  const tooLarge = (): DownloadError => new DownloadError('too-large', `the file is larger than ${maxBytes} bytes`);
  let buffer = declaredBytes !== undefined && declaredBytes > 0 ? Buffer.allocUnsafe(declaredBytes) : undefined;
  let filled = 0;
  let chunks: Buffer[] | undefined = buffer === undefined ? [] : undefined;
  let total = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge();
      if (buffer !== undefined && filled + chunk.length <= buffer.length) {
        chunk.copy(buffer, filled);
        filled += chunk.length;
        continue;
      }
      if (chunks === undefined) {
        chunks = buffer !== undefined && filled > 0 ? [buffer.subarray(0, filled)] : [];
        buffer = undefined;
      }
      chunks.push(chunk);
    }
  } finally {
    body.destroy();
  }
  if (chunks !== undefined) return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
  // Node ends a body shorter than its Content-Length with an error, so the buffer is full here.
  return (buffer as Buffer).subarray(0, filled);
}

/** Content-Length as a number of bytes, when the server sent a usable one. */
function declaredLength(header: unknown): number | undefined {
  const value = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : typeof header === 'number' ? header : undefined;
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

/**
 * Downloads the files users send (DingTalk's `downloadUrl`, a signed OSS link) with axios on keep-alive
 * agents. No Content-Type is sent (the signature of such links covers it). The body is streamed into one
 * buffer and refused as soon as more than `maxBytes` arrived (counted as it inflates), so an oversized file
 * never sits whole in memory and a picture is held once, not copied; the host is named in errors, never the
 * link (its query is a credential).
 */
export function createAxiosDownloader(options: AxiosDownloaderOptions): Downloader {
  const http = axios.create({
    timeout: options.timeoutMs,
    httpsAgent: new Agent({ keepAlive: true }),
    httpAgent: new HttpAgent({ keepAlive: true }),
    responseType: 'stream',
    maxRedirects: 3,
    // Every status is read here, so the error says which one it was.
    validateStatus: () => true,
  });
  return {
    async download(url, { maxBytes, signal }) {
      let host: string;
      try {
        host = new URL(url).host;
      } catch {
        throw new DownloadError('http', 'the download link is not a URL');
      }
      // axios's `timeout` only bounds the wait for each socket read: a body that trickles in would never
      // end it. This bound covers the whole download, headers and body, and the run's signal ends it too.
      const bound = new AbortController();
      const timer = setTimeout(() => bound.abort(), options.timeoutMs);
      const onRunAbort = (): void => bound.abort();
      if (signal?.aborted) bound.abort();
      else signal?.addEventListener('abort', onRunAbort, { once: true });
      try {
        const response = await http.get<Readable>(url, { signal: bound.signal });
        if (response.status !== 200) {
          response.data.destroy();
          throw new DownloadError('http', `${host} answered HTTP ${response.status} to the download`, { status: response.status });
        }
        const declared = declaredLength(response.headers['content-length']);
        // A declared length within the bound sizes the buffer; one over it is read until the bound, since a
        // compressed body's length says nothing of the inflated one.
        const bytes = await readAtMost(response.data, maxBytes, declared !== undefined && declared <= maxBytes ? declared : undefined);
        const type = response.headers['content-type'];
        return typeof type === 'string' && type !== '' ? { bytes, contentType: type } : { bytes };
      } catch (error) {
        if (error instanceof DownloadError) throw error;
        if (signal?.aborted) throw new DownloadError('deadline', 'the run ran out of time while downloading the file', { cause: error });
        if (bound.signal.aborted || isCancel(error)) {
          throw new DownloadError('timeout', `${host} did not send the file within ${options.timeoutMs} ms`, { cause: error });
        }
        if (isAxiosError(error)) {
          if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
            throw new DownloadError('timeout', `${host} did not send the file within ${options.timeoutMs} ms`, { cause: error });
          }
          throw new DownloadError('network', `${host} could not be reached for the download: ${error.code ?? 'network error'}`, { cause: error });
        }
        throw new DownloadError('network', `the download from ${host} failed`, { cause: error });
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onRunAbort);
      }
    },
  };
}
