import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** ../shared/reference beside the repository: read-only platform facts and samples. */
export const REFERENCE_DIR = path.resolve(__dirname, '../../../shared/reference');

/** Names of the DingTalk message samples (`text-1to1`, `text-group-mention`, ...). */
export function dingtalkSampleNames(): string[] {
  return readdirSync(path.join(REFERENCE_DIR, 'dingtalk'))
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.replace(/\.json$/, ''));
}

/** A fresh copy of a DingTalk sample, safe to modify in a test. */
export function dingtalkSample(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'dingtalk', `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/** A fresh copy of the FC 3.0 HTTP-trigger event sample. */
export function httpTriggerEventSample(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'fc3-http-trigger-event.json'), 'utf8')) as Record<string, unknown>;
}
