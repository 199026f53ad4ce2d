/** Entry point of `npm run chat` (bundled to dist/local/chat.js): see chat-cli.ts. */
import { main } from './chat-cli';

void main();
