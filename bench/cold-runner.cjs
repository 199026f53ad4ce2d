// One cold start, run as `node cold-runner.cjs <handler module> <event file> <context JSON>`: loads the
// handler, answers one event, reports on stderr and exits. Plain CommonJS that loads nothing else, so
// the time a run takes is node's start-up, the module's load and the handler's work; the bench runs
// it with bare-handler.cjs as the baseline and subtracts that. (stdout is left to the handler's logs.)
'use strict';
const { readFileSync } = require('node:fs');

// Peak RSS of this process: VmHWM. Not process.resourceUsage().maxRSS: on Linux that keeps the peak of
// the forked copy of the parent from before exec, so a child of a big process reports the parent's size.
const peakRssKb = () => {
  try {
    return Number(/VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    return process.resourceUsage().maxRSS;
  }
};

const report = (fields, code) =>
  process.stderr.write(`BENCH_RESULT ${JSON.stringify({ ...fields, maxRssKb: peakRssKb() })}\n`, () => process.exit(code));

// How long the require of the bundle takes (parse and module evaluation), reported beside the whole run.
/* global performance */
const loadStarted = performance.now();
const { handler } = require(process.argv[2]);
const loadMs = performance.now() - loadStarted;
handler(readFileSync(process.argv[3]), JSON.parse(process.argv[4])).then(
  (result) => report({ result, loadMs }, 0),
  (error) => report({ error: error instanceof Error ? error.message : String(error) }, 1),
);
