import { readFileSync } from 'node:fs';
import path from 'node:path';

const DIST = path.resolve(__dirname, '../../dist');

describe('the function bundles', () => {
  it.each(['conversation', 'reply'])('%s is pure ASCII, so V8 keeps its source one byte a character', (name) => {
    const source = readFileSync(path.join(DIST, name, 'index.js'), 'latin1');
    // A regex literal keeps its characters as written: write non-ASCII ones as \u escapes in shared/.
    const offending = [...source.matchAll(/[\u0080-\uffff]+/g)].map((match) => source.slice(Math.max(0, match.index - 40), match.index + 10));
    expect(offending).toEqual([]);
  });
});
