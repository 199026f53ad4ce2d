/**
 * A handler kept in a process of its own for the streaming measurements (`node handler-host.js <module>
 * [--preload]`): unlike warm-driver.ts, which runs a fixed job, it takes events over IPC whenever the
 * scenario sends them (several may run at once, as on an FC instance) and answers each with the wall-clock
 * time the handler was called, so the bench can line it up with the fakes' records. Without `--preload`
 * the module loads on the first event, which then pays what a fresh FC instance pays (node's own
 * start-up excepted). Exits when the bench disconnects.
 */
import { performance } from 'node:perf_hooks';
import { errorOutcome, loadHandler, outcomeOf, peakRssKb, type Handler } from './child-report';

/** One event for the handler. */
export interface HostRequest {
  id: number;
  /** The event, base64. */
  event: string;
  context: Record<string, unknown>;
}

/** What one call did; the host first sends `{ ready: true }` once it can take events. */
export interface HostReply {
  id: number;
  /** Epoch ms (fractional) just before the handler was called (before the module loaded, on a lazy first event). */
  startedAt: number;
  /** How long the call took, in ms. */
  ms: number;
  /** `statusCode` or `outcome`, or `error: ...`. */
  outcome: string;
  /** Peak RSS of the host so far, in KB. */
  maxRssKb: number;
  /** On the event that loaded the module: how long `require` took, in ms (part of `ms`). */
  loadMs?: number;
}

/** Wall-clock time with sub-millisecond resolution, comparable with the `Date.now()` of the fakes. */
const wallClock = (): number => performance.timeOrigin + performance.now();

function main(module: string, preload: boolean): void {
  const send = (message: HostReply | { ready: true }): void => void process.send?.(message);
  let handler: Handler | undefined = preload ? loadHandler(module) : undefined;
  process.on('message', (request: HostRequest) => {
    const startedAt = wallClock();
    const started = performance.now();
    let loadMs: number | undefined;
    const reply = (outcome: string): void =>
      send({ id: request.id, startedAt, ms: performance.now() - started, outcome, maxRssKb: peakRssKb(), ...(loadMs !== undefined ? { loadMs } : {}) });
    void (async () => {
      if (handler === undefined) {
        handler = loadHandler(module);
        loadMs = performance.now() - started;
      }
      return handler(Buffer.from(request.event, 'base64'), request.context);
    })().then(
      (result) => reply(outcomeOf(result)),
      (error: unknown) => reply(errorOutcome(error)),
    );
  });
  // Keep-alive sockets of the handler's clients would keep the process alive once the bench is done.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}

main(process.argv[2] ?? '', process.argv.includes('--preload'));
