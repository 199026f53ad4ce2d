import path from 'node:path';
import { startFcApiFake, type FcApiFake } from '../fakes/fc-api-fake';
import { fcContext, STS_CREDENTIALS } from './fc-context';

/** An FC handler as the bundles export it. */
export type BundleHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** Where `npm run build` writes the bundles `s deploy` ships. */
export const DIST = path.resolve(__dirname, '../../dist');

/**
 * Loads `dist/<name>/index.js` afresh, in its own module registry: the bundle reads the environment as it is
 * now and builds its instance on the first call, as a new FC instance would.
 */
export function loadBundle(name: 'conversation' | 'reply'): BundleHandler {
  let handler: BundleHandler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = (require(path.join(DIST, name, 'index.js')) as { handler: BundleHandler }).handler;
  });
  return handler as BundleHandler;
}

/** The account id the end-to-end tests' FC fake serves. */
export const E2E_ACCOUNT = '1234567890123456';

/**
 * FC's API fake running the reply bundle as s.yaml deploys it: async task mode, two retries, and FC's
 * retries of a failed run keeping its requestId. `reply` is read at each invocation, so a test may load
 * the bundle afresh after starting the fake.
 */
export function startFcRunningReply(functionName: string, reply: () => BundleHandler): Promise<FcApiFake> {
  return startFcApiFake({
    accountId: E2E_ACCOUNT,
    credentials: [STS_CREDENTIALS],
    functions: {
      [functionName]: {
        asyncTask: true,
        maxAsyncRetryAttempts: 2,
        handler: (payload, info) => reply()(payload, fcContext({ functionName, requestId: info.requestId })),
      },
    },
  });
}
