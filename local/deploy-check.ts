/** Entry point of `npm run predeploy-check` (bundled to dist/local/deploy-check.js): see deploy-check-cli.ts. */
import { main } from './deploy-check-cli';

main();
