import path from 'node:path';

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
