/** Jest globalSetup: Jest's own process, before the workers start (see hermetic-env.ts). */
import { makeHermetic } from './hermetic-env';

export default function globalSetup(): void {
  makeHermetic(process.env);
}
