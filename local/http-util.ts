/**
 * The few HTTP building blocks the local tools share (server, FC endpoint, offline LLM, chat webhook):
 * a bounded body reader, JSON answers and a listener that can be closed with its keep-alive sockets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Answers one request; a rejection becomes a 500 so a bug never leaves a client hanging. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A listening HTTP server. */
export interface Listener {
  readonly server: Server;
  /** `http://HOST:PORT`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and destroys open sockets (keep-alive ones too). Safe to call twice. */
  close(): Promise<void>;
}

/** Largest request body the local tools read: FC's own limit for a synchronous invocation. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Raised by `readBody` when the body is larger than its limit. */
export class BodyTooLargeError extends Error {}

/** The whole request body, refused past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(`request body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Answers `body` as JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(payload.length), ...headers });
  res.end(payload);
}

/**
 * Serves `handler` on `host:port`. Defaults: 127.0.0.1 and port 0 (a free port picked by the OS), so
 * nothing is reachable from another machine unless the caller asks for it.
 */
export async function listen(handler: RequestHandler, options: { host?: string; port?: number } = {}): Promise<Listener> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
