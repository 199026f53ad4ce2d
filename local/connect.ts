/** Entry point of `npm run connect` (bundled to dist/local/connect.js): see connect-cli.ts. */
import { main } from './connect-cli';

void main();
