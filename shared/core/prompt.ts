import type { ChatMessage } from '../ports';
import type { Exchange } from '../history/exchange';
import { utf8ByteBound, type TokenCounter } from '../llm/token-counter';

/** Tokens the chat format adds around each message (role, separators), as OpenAI documents for its models. */
export const TOKENS_PER_MESSAGE = 4;
/** Tokens that prime the assistant's answer. */
export const TOKENS_FOR_REPLY = 3;

/** What goes into one LLM call. */
export interface PromptInput {
  systemPrompt?: string;
  /** Earlier exchanges, oldest first. */
  history: readonly Exchange[];
  question: string;
  /** HISTORY_LENGTH: at most this many of the newest exchanges. */
  maxExchanges: number;
  /** MAX_CONTEXT_TOKENS: the prompt never counts more. */
  maxTokens: number;
}

/** The messages to send and what was left out to fit. */
export interface PromptPlan {
  messages: ChatMessage[];
  /** How many exchanges made it into the prompt. */
  exchangesUsed: number;
  /** Exchanges within HISTORY_LENGTH dropped because of MAX_CONTEXT_TOKENS. */
  droppedForTokens: number;
  questionTruncated: boolean;
  /** The prompt's size by the counter used. */
  tokens: number;
}

const cost = (counter: TokenCounter, text: string): number => counter.count(text) + TOKENS_PER_MESSAGE;

/**
 * Builds the prompt: the system prompt, then as many of the newest `maxExchanges` exchanges as fit in
 * `maxTokens`, oldest first, then the question (cut if even it alone does not fit).
 */
export function buildPrompt(input: PromptInput, counter: TokenCounter): PromptPlan {
  let system = input.systemPrompt?.trim() ? input.systemPrompt : undefined;
  // A system prompt may take at most half the budget, so the question always has room.
  const systemRoom = Math.floor(input.maxTokens / 2) - TOKENS_PER_MESSAGE;
  if (system !== undefined && counter.count(system) > systemRoom) system = counter.truncate(system, Math.max(0, systemRoom));
  const fixed = TOKENS_FOR_REPLY + (system !== undefined ? cost(counter, system) : 0);
  let question = input.question;
  let questionTruncated = false;
  let budget = input.maxTokens - fixed - cost(counter, question);
  if (budget < 0) {
    const room = Math.max(1, input.maxTokens - fixed - TOKENS_PER_MESSAGE);
    question = counter.truncate(question, room);
    questionTruncated = true;
    budget = input.maxTokens - fixed - cost(counter, question);
  }
  const candidates = input.maxExchanges > 0 ? input.history.slice(-input.maxExchanges) : [];
  const kept: Exchange[] = [];
  for (let i = candidates.length - 1; i >= 0; i -= 1) {
    const exchange = candidates[i] as Exchange;
    const size = cost(counter, exchange.user) + cost(counter, exchange.assistant);
    if (size > budget) break;
    budget -= size;
    kept.unshift(exchange);
  }
  const messages: ChatMessage[] = [];
  if (system !== undefined) messages.push({ role: 'system', content: system });
  for (const exchange of kept) {
    messages.push({ role: 'user', content: exchange.user }, { role: 'assistant', content: exchange.assistant });
  }
  messages.push({ role: 'user', content: question });
  return {
    messages,
    exchangesUsed: kept.length,
    droppedForTokens: candidates.length - kept.length,
    questionTruncated,
    tokens: input.maxTokens - budget,
  };
}

/**
 * `buildPrompt` that loads the tokenizer only when it matters: a prompt that fits by UTF-8 bytes (an
 * upper bound of tokens) fits for real, so the exact count is needed only when something would be cut.
 */
export async function planPrompt(input: PromptInput, loadCounter: () => Promise<TokenCounter>): Promise<PromptPlan> {
  const bound = buildPrompt(input, utf8ByteBound);
  if (bound.droppedForTokens === 0 && !bound.questionTruncated) return bound;
  return buildPrompt(input, await loadCounter());
}
