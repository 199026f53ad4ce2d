import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { monotonicMs } from './clock';

/** Node's built-in HTTP server channels (stable in Node 20): one message when a request's headers are in, one when its response is flushed. */
const REQUEST_START = 'http.server.request.start';
const RESPONSE_FINISH = 'http.server.response.finish';

interface ServerMessage {
  request: IncomingMessage;
  socket: { localPort?: number };
}

/** One request served by a recorded fake: when it arrived ({@link monotonicMs}, shared by the bench's processes) and how long it took. */
export interface Wait {
  start: number;
  ms: number;
}

/**
 * Records, per listening port, how long each request took inside a fake (headers in to response
 * flushed), measured by the fake's own process. The bench subtracts these waits (LLM fake, webhook sink)
 * from the reply handler's total; what stays is the bot's own time, connection set-up included, so a
 * missing keep-alive agent still shows. Durations need no clock shared with the measured process.
 */
export class ServerWaits {
  private readonly started = new WeakMap<IncomingMessage, number>();
  private readonly waits = new Map<number, Wait[]>();
  private readonly onStart = (message: unknown): void => {
    const { request, socket } = message as ServerMessage;
    if (socket.localPort !== undefined && this.waits.has(socket.localPort)) this.started.set(request, monotonicMs());
  };
  private readonly onFinish = (message: unknown): void => {
    const { request, socket } = message as ServerMessage;
    const start = this.started.get(request);
    if (start === undefined || socket.localPort === undefined) return;
    this.waits.get(socket.localPort)?.push({ start, ms: monotonicMs() - start });
  };

  /** Starts recording the requests to the servers listening on `ports`. */
  constructor(ports: readonly number[]) {
    for (const port of ports) this.waits.set(port, []);
    diagnostics.subscribe(REQUEST_START, this.onStart);
    diagnostics.subscribe(RESPONSE_FINISH, this.onFinish);
  }

  /** Returns the waits recorded for `port` since the last call, in arrival order, and forgets them. */
  take(port: number): Wait[] {
    const recorded = this.waits.get(port);
    if (recorded === undefined) throw new Error(`port ${port} is not recorded`);
    return recorded.splice(0);
  }

  /** Stops recording. */
  stop(): void {
    diagnostics.unsubscribe(REQUEST_START, this.onStart);
    diagnostics.unsubscribe(RESPONSE_FINISH, this.onFinish);
  }
}

/**
 * Sums `waits` per message, given the first request of each message (`marks`, one per message, in
 * order): a wait belongs to the last mark that started at or before it. Messages are handled one after
 * another, so this attributes e.g. an answer posted in several parts to its message.
 */
export function perMessage(marks: readonly Wait[], waits: readonly Wait[]): number[] {
  return byMessage(
    marks.map((mark) => mark.start),
    waits,
  ).map((own) => own.reduce((sum, wait) => sum + wait.ms, 0));
}

/**
 * `waits` per message, given when each message started (`starts`, in order, on the same clock): a wait
 * belongs to the last message that started at or before it. Throws for a wait before the first message.
 */
export function byMessage(starts: readonly number[], waits: readonly Wait[]): Wait[][] {
  const groups: Wait[][] = starts.map(() => []);
  for (const wait of waits) {
    let owner = -1;
    for (let i = 0; i < starts.length && (starts[i] as number) <= wait.start; i += 1) owner = i;
    if (owner < 0) throw new Error('a request arrived before the first message');
    groups[owner]?.push(wait);
  }
  return groups;
}
