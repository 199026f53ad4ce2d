/** Entry point of `npm start` (bundled to dist/local/start.js): see server.ts. */
import { main } from './server';

void main();
