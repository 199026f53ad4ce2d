/** Jest setupFiles: the `process.env` each test file sees, before the file loads (see hermetic-env.ts). */
import { makeHermetic } from './hermetic-env';

makeHermetic(process.env);
