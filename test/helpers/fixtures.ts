import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * test/fixtures: platform samples (DingTalk callbacks, FC's HTTP-trigger event, the fc3 props schema)
 * copied into the repository, so `npm test` needs nothing beside the clone.
 */
export const FIXTURES_DIR = path.resolve(__dirname, '../fixtures');

/**
 * Names of the DingTalk message samples directly under test/fixtures/dingtalk (`text-1to1`,
 * `text-group-mention`, ...). The samples under `more/` are read by name (`more/file`).
 */
export function dingtalkSampleNames(): string[] {
  return readdirSync(path.join(FIXTURES_DIR, 'dingtalk'))
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.replace(/\.json$/, ''));
}

/** A fresh copy of a DingTalk sample (`text-1to1`, `more/file`, ...), safe to modify in a test. */
export function dingtalkSample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'dingtalk', `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/** A fresh copy of the FC 3.0 HTTP-trigger event sample. */
export function httpTriggerEventSample(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'fc3-http-trigger-event.json'), 'utf8')) as Record<string, unknown>;
}

/** Path of the fc3 component's props JSON schema (what `s` validates s.yaml's props against). */
export const FC3_PROPS_SCHEMA = path.join(FIXTURES_DIR, 'fc3-props.schema.json');
