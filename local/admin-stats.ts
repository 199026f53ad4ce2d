/**
 * `npm run admin -- stats [--days N] [--json]`: questions, people, conversations and tokens over the last N
 * local days (TZ), in all, per model and per day, summed from the usage ledger (one record per answered
 * question). `--json` prints {@link StatsJson}, a shape kept stable for scripts (documented in the README).
 */
import { localDay } from '../shared/history/daily-usage';
import type { UsageEntry } from '../shared/history/usage-ledger';

/** Questions and tokens. */
export interface StatsFigures {
  questions: number;
  promptTokens: number;
  completionTokens: number;
}

/** The figures of `stats --json`, version 1. Every count is a whole number; days and models with no question are listed (days) or left out (models). */
export interface StatsJson {
  v: 1;
  /** First and last local day counted (`YYYY-MM-DD`), today included. */
  from: string;
  to: string;
  /** The time zone days are counted in (TZ). */
  timeZone: string;
  /** Everything in the period: distinct people and conversations, questions and tokens. */
  totals: StatsFigures & { users: number; conversations: number; estimatedQuestions: number };
  /** Per model, most questions first. */
  models: (StatsFigures & { model: string; users: number })[];
  /** Per local day, oldest first, every day of the period (zeros for a quiet day). */
  days: (StatsFigures & { day: string; users: number })[];
}

const zero = (): StatsFigures => ({ questions: 0, promptTokens: 0, completionTokens: 0 });

function add(figures: StatsFigures, entry: UsageEntry): void {
  figures.questions += entry.questions;
  figures.promptTokens += entry.promptTokens;
  figures.completionTokens += entry.completionTokens;
}

/** The local days of the last `days` days up to `now`'s, oldest first. */
export function periodDays(now: number, days: number, timeZone: string): string[] {
  const found = new Set<string>();
  // Steps of 6 hours find every local day whatever the offset and daylight-saving changes.
  for (let at = now; found.size <= days && at > now - (days + 2) * 86_400_000; at -= 6 * 3_600_000) found.add(localDay(at, timeZone));
  return [...found].sort().slice(-days);
}

/** Sums `entries` (already from the first day on) over the period's `days`. */
export function computeStats(entries: readonly UsageEntry[], days: readonly string[], timeZone: string): StatsJson {
  const from = days[0] ?? '';
  const to = days[days.length - 1] ?? '';
  const inPeriod = entries.filter((entry) => entry.day >= from && entry.day <= to);
  const totals = { ...zero(), users: 0, conversations: 0, estimatedQuestions: 0 };
  const users = new Set<string>();
  const conversations = new Set<string>();
  const models = new Map<string, StatsFigures & { model: string; users: Set<string> }>();
  const perDay = new Map<string, StatsFigures & { users: Set<string> }>(days.map((day) => [day, { ...zero(), users: new Set<string>() }]));
  for (const entry of inPeriod) {
    add(totals, entry);
    if (entry.estimated) totals.estimatedQuestions += entry.questions;
    users.add(entry.userId);
    conversations.add(entry.conversationId);
    const model = models.get(entry.model) ?? { ...zero(), model: entry.model, users: new Set<string>() };
    add(model, entry);
    model.users.add(entry.userId);
    models.set(entry.model, model);
    const day = perDay.get(entry.day);
    if (day !== undefined) {
      add(day, entry);
      day.users.add(entry.userId);
    }
  }
  totals.users = users.size;
  totals.conversations = conversations.size;
  return {
    v: 1,
    from,
    to,
    timeZone,
    totals,
    models: [...models.values()]
      .sort((a, b) => b.questions - a.questions || a.model.localeCompare(b.model))
      .map(({ users: modelUsers, ...figures }) => ({ model: figures.model, users: modelUsers.size, questions: figures.questions, promptTokens: figures.promptTokens, completionTokens: figures.completionTokens })),
    days: days.map((day) => {
      const found = perDay.get(day) ?? { ...zero(), users: new Set<string>() };
      return { day, users: found.users.size, questions: found.questions, promptTokens: found.promptTokens, completionTokens: found.completionTokens };
    }),
  };
}

const number = (value: number): string => value.toLocaleString('en-US');

/** The figures as text: totals, a table per model, a table per day (quiet days left out). */
export function renderStats(stats: StatsJson): string {
  const { totals } = stats;
  const lines = [
    `${stats.from} to ${stats.to} (${stats.timeZone}): ${number(totals.questions)} questions from ${number(totals.users)} ${totals.users === 1 ? 'person' : 'people'} in ${number(totals.conversations)} conversation${totals.conversations === 1 ? '' : 's'}`,
    `tokens: ${number(totals.promptTokens)} prompt, ${number(totals.completionTokens)} completion${totals.estimatedQuestions > 0 ? ` (${number(totals.estimatedQuestions)} questions estimated: the provider reported no usage)` : ''}`,
  ];
  const table = (header: readonly string[], rows: readonly (readonly string[])[]): string[] => {
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
    const format = (cells: readonly string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ').trimEnd();
    return [format(header), ...rows.map(format)];
  };
  if (stats.models.length > 0) {
    lines.push('', ...table(['model', 'questions', 'people', 'prompt', 'completion'], stats.models.map((model) => [model.model, number(model.questions), number(model.users), number(model.promptTokens), number(model.completionTokens)])));
  }
  const busy = stats.days.filter((day) => day.questions > 0);
  if (busy.length > 0) {
    lines.push('', ...table(['day', 'questions', 'people', 'prompt', 'completion'], busy.map((day) => [day.day, number(day.questions), number(day.users), number(day.promptTokens), number(day.completionTokens)])));
  }
  return `${lines.join('\n')}\n`;
}
