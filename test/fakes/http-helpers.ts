/**
 * Small shared building blocks for the local HTTP fakes in this folder.
 *
 * The fakes stand in for cloud services (Function Compute, OSS, an OpenAI-compatible API and the
 * DingTalk session webhook) during integration tests. They only ever listen on 127.0.0.1 with an
 * ephemeral port, on the same small HTTP layer as the local tools (`local/http-util.ts`).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { listen, sendJson } from '../../local/http-util';
import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Handles one request. It must answer `res` itself; a rejected promise is turned into a JSON
 * 500 by {@link listenOnLoopback} so that a bug in a fake never leaves a client hanging.
 */
export type FakeRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** A fake server listening on 127.0.0.1. */
export interface LoopbackServer {
  /** The underlying server, for fakes that need low-level access. */
  readonly server: Server;
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly url: string;
  /** The ephemeral port picked by the OS. */
  readonly port: number;
  /**
   * Stops accepting connections and destroys every open socket, keep-alive ones included, so
   * Jest does not see open handles. Safe to call more than once.
   */
  close(): Promise<void>;
}

/**
 * Starts `handler` on 127.0.0.1 with port 0 (an ephemeral port), so tests never collide and never
 * leave the loopback interface.
 */
export function listenOnLoopback(handler: FakeRequestHandler): Promise<LoopbackServer> {
  return listen(handler);
}

/** Raised by {@link readBody} when a body exceeds the limit given. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a whole request body. Rejects with {@link BodyTooLargeError} once more than `limit`
 * bytes (default 64 MiB) arrived, so a runaway client cannot exhaust the test process memory;
 * the rest of the body is drained and discarded so the fake can still answer.
 */
export function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        overflow = true;
        chunks.length = 0;
        return;
      }
      if (!overflow) chunks.push(chunk);
    });
    req.on('end', () => {
      if (overflow) reject(new BodyTooLargeError(limit));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/**
 * A request body as JSON when it parses, else as its text (`parsed` false), so a fake can answer a malformed
 * body the way the real service does; undefined for an empty body.
 */
export function parseJsonBody(raw: Buffer): { body: unknown; parsed: boolean } {
  if (raw.length === 0) return { body: undefined, parsed: true };
  try {
    return { body: JSON.parse(raw.toString('utf8')) as unknown, parsed: true };
  } catch {
    return { body: raw.toString('utf8'), parsed: false };
  }
}

/**
 * The first value of a request header (Node lowercases names), or undefined. Repeated headers
 * that Node keeps as arrays (e.g. set-cookie) yield their first element.
 */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  if (Array.isArray(value)) return value[0];
  return value;
}

/** All request headers as a flat lowercase-name record (array values joined with ", "). */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * Compares two strings without leaking where they differ (signature checks). Different lengths
 * still cost a comparison so the timing does not reveal the expected length either.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/** Sends a JSON body with `content-type: application/json; charset=utf-8`. */
export { sendJson };

/** Sends an XML document with `content-type: application/xml`. */
export function sendXml(
  res: ServerResponse,
  status: number,
  xml: string,
  headers: Record<string, string> = {},
): void {
  const payload = Buffer.from(xml, 'utf8');
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': String(payload.length),
    ...headers,
  });
  res.end(payload);
}

/** Escapes text for an XML element or attribute value. */
export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Reverses XML character escaping: the five named entities plus numeric references. */
export function xmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_match, entity: string) => {
    switch (entity) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(
          entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10),
        );
    }
  });
}

/** Random uppercase hex, the shape of OSS request ids (24 characters by default). */
export function randomHex(length = 24): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length)
    .toUpperCase();
}

/**
 * Keeps track of timers a fake starts (delayed answers), so `close()` can cancel them and Jest
 * sees no open handles.
 */
export class TimerBag {
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Resolves after `ms` milliseconds, or never if the bag is cleared first. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Cancels every pending timer. */
  clear(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
