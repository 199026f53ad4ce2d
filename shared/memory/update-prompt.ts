import type { Exchange } from '../history/exchange';
import { utf8ByteBound } from '../llm/token-counter';
import type { ChatMessage } from '../ports';
import { dedupe, factBytes, factChars, type MemoryBounds } from './facts';

/** What the update call sends: its messages, and how many of the exchanges given are in them. */
export interface UpdatePrompt {
  messages: ChatMessage[];
  /** Exchanges sent (the newest ones when there were more than the input budget holds). */
  sent: number;
}

/** Why a model's answer was not used. */
export type UpdateRefusal = 'invalid-json' | 'wrong-shape' | 'over-bounds';

/** A model's answer, read: the complete new list, or why it cannot be used. */
export type ParsedUpdate = { ok: true; items: string[] } | { ok: false; reason: UpdateRefusal };

/** Fewest bytes one exchange keeps in the update call; below this, the oldest exchanges are left out. */
const MIN_EXCHANGE_BYTES = 400;

/**
 * The instruction of the update call. It names "JSON" (OpenAI refuses `json_object` answers otherwise),
 * asks for the complete list (so the model can merge, correct and drop) and forbids secrets.
 */
export function updateInstruction(bounds: MemoryBounds): string {
  return [
    'You keep the long-term memory an assistant has of one person: a short list of facts that stays useful across conversations.',
    'You get the current list and the latest exchanges between the person and the assistant. Update the list:',
    '- keep self-contained facts worth remembering about the person: name, role, team, projects, preferences (language, tone, format), important dates;',
    '- write each fact as one short sentence that makes sense on its own, in the language the person uses, with absolute dates (each exchange has its date);',
    '- merge duplicates, correct facts the exchanges contradict, drop facts that are outdated;',
    '- leave out one-off questions, small talk, what the assistant said about itself, and anything about other people that is not about this person;',
    '- never store secrets: passwords, API keys, tokens, access codes or other credentials.',
    `At most ${bounds.maxItems} facts, each at most ${bounds.maxFactChars} characters.`,
    'Reply with only a JSON object {"memories": ["fact", ...]}: the complete new list, unchanged facts included (an empty list when nothing is worth keeping).',
  ].join('\n');
}

/** `text` cut to `maxBytes` UTF-8 bytes, ending with `…` when it was cut. */
function cut(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  return `${utf8ByteBound.truncate(text, Math.max(0, maxBytes - 3))}…`;
}

/** The UTC calendar day of `at`, so the model can turn "on the 15th" into a date. */
const dayOf = (at: number): string => new Date(at).toISOString().slice(0, 10);

/**
 * The messages of one update call: the instruction, then the current list and the exchanges as JSON (so an
 * exchange's text cannot pass for the instruction's structure). The exchanges' text is bounded by
 * `maxInputBytes`: each gets an equal share (the question two thirds of it, the answer the rest, either
 * taking what the other leaves), and when there are too many for a useful share the oldest are left out.
 */
export function buildUpdatePrompt(input: {
  items: readonly string[];
  exchanges: readonly Exchange[];
  bounds: MemoryBounds;
  maxInputBytes: number;
}): UpdatePrompt {
  const fit = Math.max(1, Math.floor(input.maxInputBytes / MIN_EXCHANGE_BYTES));
  const chosen = input.exchanges.slice(-fit);
  const share = Math.floor(input.maxInputBytes / Math.max(1, chosen.length));
  const exchanges = chosen.map((exchange) => {
    const assistantBytes = Buffer.byteLength(exchange.assistant, 'utf8');
    const userBudget = Math.max(Math.ceil((share * 2) / 3), share - assistantBytes);
    const user = cut(exchange.user, userBudget);
    const assistant = cut(exchange.assistant, share - Buffer.byteLength(user, 'utf8'));
    return { date: dayOf(exchange.at), user, assistant };
  });
  const body = JSON.stringify({ memories: input.items, exchanges }, null, 1);
  return {
    messages: [
      { role: 'system', content: updateInstruction(input.bounds) },
      { role: 'user', content: `The current memory and the latest exchanges, oldest first, as JSON:\n${body}` },
    ],
    sent: chosen.length,
  };
}

/** The answer without a Markdown code fence around it (some models add one even in JSON mode). */
function unfenced(text: string): string {
  const match = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(text.trim());
  return match ? (match[1] ?? '') : text.trim();
}

/**
 * Reads the model's answer to an update call: a JSON object whose `memories` is an array of strings, within
 * the bounds as given (blank facts and repeats are dropped first). Anything else is refused with its reason,
 * and the memory stays as it was: a list over the bounds is not cut, since which facts the model meant to
 * keep is unknown.
 */
export function parseMemoryUpdate(text: string, bounds: MemoryBounds): ParsedUpdate {
  let value: unknown;
  try {
    value = JSON.parse(unfenced(text));
  } catch {
    return { ok: false, reason: 'invalid-json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'wrong-shape' };
  const memories: unknown = (value as Record<string, unknown>).memories;
  if (!Array.isArray(memories) || !memories.every((item): item is string => typeof item === 'string')) {
    return { ok: false, reason: 'wrong-shape' };
  }
  const items = dedupe(memories);
  if (items.length > bounds.maxItems || factBytes(items) > bounds.maxBytes || items.some((item) => factChars(item) > bounds.maxFactChars)) {
    return { ok: false, reason: 'over-bounds' };
  }
  return { ok: true, items };
}
