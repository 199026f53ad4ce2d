// Prints the table of `npm run test:reliability`: each guarantee the README promises, how many cases
// its tests tried and how many failed. Tests opt in with `describe(guarantee(...))` from
// test/helpers/guarantee.ts; fuzz tests report their generated case counts through a file whose path
// this reporter puts in the environment before Jest starts its workers.
'use strict';
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const TAG = '[guarantee] ';
const CASES_FILE_VARIABLE = 'RELIABILITY_CASES_FILE';

class ReliabilityReporter {
  constructor(globalConfig, options = {}) {
    this.options = options;
    this.folder = mkdtempSync(path.join(tmpdir(), 'reliability-'));
    this.casesFile = path.join(this.folder, 'cases.jsonl');
    writeFileSync(this.casesFile, '');
    process.env[CASES_FILE_VARIABLE] = this.casesFile;
  }

  onRunComplete(_contexts, results) {
    const recorded = new Map();
    for (const line of readFileSync(this.casesFile, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const entry = JSON.parse(line);
      const key = `${entry.guarantee}\u0000${entry.test}`;
      recorded.set(key, (recorded.get(key) ?? 0) + entry.cases);
    }
    rmSync(this.folder, { recursive: true, force: true });

    const rows = new Map();
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        const title = test.ancestorTitles.find((candidate) => candidate.startsWith(TAG));
        if (title === undefined || test.status === 'pending' || test.status === 'skipped' || test.status === 'todo') continue;
        const name = title.slice(TAG.length);
        const row = rows.get(name) ?? { tests: 0, cases: 0, failures: 0 };
        row.tests += 1;
        row.cases += recorded.get(`${name}\u0000${test.fullName}`) ?? 1;
        if (test.status === 'failed') row.failures += 1;
        rows.set(name, row);
      }
    }
    if (rows.size === 0) return;
    const lines = [
      '',
      'Reliability: what the bot guarantees, and the tests that prove it',
      '',
      '| guarantee | tests | cases tried | failures |',
      '|---|---:|---:|---:|',
    ];
    let failures = 0;
    for (const [name, row] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`| ${name} | ${row.tests} | ${row.cases.toLocaleString('en-US')} | ${row.failures} |`);
      failures += row.failures;
    }
    lines.push('', failures === 0 ? 'All guarantees held.' : `${failures} guarantee test(s) FAILED.`, '');
    process.stdout.write(`${lines.join('\n')}\n`);
    if (this.options.jsonFile) {
      writeFileSync(this.options.jsonFile, JSON.stringify(Object.fromEntries(rows), null, 2));
    }
  }
}

module.exports = ReliabilityReporter;
