import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import axios, { isAxiosError, isCancel } from 'axios';
import { DownloadError } from '../errors';
import type { Downloader } from '../ports';

/** Options of {@link createAxiosDownloader}. */
export interface AxiosDownloaderOptions {
  /** Timeout of one download, headers and body. */
  timeoutMs: number;
}

/**
 * Downloads the files users send (DingTalk's `downloadUrl`, a signed OSS link) with axios on keep-alive
 * agents. No Content-Type is sent (the signature of such links covers it). The body is refused as soon as
 * more than `maxBytes` arrived, so an oversized file never sits whole in memory; the host is named in
 * errors, never the link (its query is a credential).
 */
export function createAxiosDownloader(options: AxiosDownloaderOptions): Downloader {
  const http = axios.create({
    timeout: options.timeoutMs,
    httpsAgent: new Agent({ keepAlive: true }),
    httpAgent: new HttpAgent({ keepAlive: true }),
    responseType: 'arraybuffer',
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
        const response = await http.get<ArrayBuffer>(url, { maxContentLength: maxBytes, signal: bound.signal });
        if (response.status !== 200) {
          throw new DownloadError('http', `${host} answered HTTP ${response.status} to the download`, { status: response.status });
        }
        const bytes = Buffer.from(response.data);
        if (bytes.length > maxBytes) throw new DownloadError('too-large', `the file is larger than ${maxBytes} bytes`);
        const type = response.headers['content-type'];
        return typeof type === 'string' && type !== '' ? { bytes, contentType: type } : { bytes };
      } catch (error) {
        if (error instanceof DownloadError) throw error;
        if (signal?.aborted) throw new DownloadError('deadline', 'the run ran out of time while downloading the file', { cause: error });
        if (bound.signal.aborted || isCancel(error)) {
          throw new DownloadError('timeout', `${host} did not send the file within ${options.timeoutMs} ms`, { cause: error });
        }
        if (isAxiosError(error)) {
          if (error.message.includes('maxContentLength')) throw new DownloadError('too-large', `the file is larger than ${maxBytes} bytes`, { cause: error });
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
