import type { ChatMessage, ContentPart } from '../ports';
import type { Exchange } from '../history/exchange';
import { utf8ByteBound, type TokenCounter } from '../llm/token-counter';

/** Tokens the chat format adds around each message (role, separators), as OpenAI documents for its models. */
export const TOKENS_PER_MESSAGE = 4;
/** Tokens that prime the assistant's answer. */
export const TOKENS_FOR_REPLY = 3;

/**
 * Tokens one picture counts for in the budget: what OpenAI bills a 1024×1024 picture at high detail (765)
 * with room for larger ones; Qwen-VL and GLM-4V count in the same range. The real cost depends on the
 * picture's size and the provider, so this is an estimate, never a cut of the picture.
 */
export const TOKENS_PER_PICTURE = 1_100;

/** Tokens of the question's text kept even when its pictures alone fill the budget. */
export const QUESTION_FLOOR_TOKENS = 200;

/** A picture as the prompt sends it: a `data:` URL of its bytes. */
export interface PromptPicture {
  url: string;
}

/** How the model is told to use the long-term memory that follows it in the system message. */
export const MEMORY_INSTRUCTION =
  'What you remember about this user from earlier conversations (use it when it helps, do not recite it unprompted, ' +
  'and prefer what the user says now if it disagrees):';

/** The system message: the operator's prompt, then the user's long-term memory. */
function systemText(systemPrompt: string | undefined, memory: readonly string[] | undefined): string | undefined {
  const parts = [systemPrompt?.trim() ? systemPrompt : undefined, memory !== undefined && memory.length > 0 ? `${MEMORY_INSTRUCTION}\n${memory.map((fact) => `- ${fact}`).join('\n')}` : undefined];
  const text = parts.filter((part): part is string => part !== undefined).join('\n\n');
  return text === '' ? undefined : text;
}

/** What goes into one LLM call. */
export interface PromptInput {
  systemPrompt?: string;
  /** The user's long-term memory: in the system message, counted before history. */
  memory?: readonly string[];
  /** Earlier exchanges, oldest first. */
  history: readonly Exchange[];
  question: string;
  /** Pictures of the question, after its text. */
  questionPictures?: readonly PromptPicture[];
  /** Pictures resent with an earlier exchange's question, by exchange id (the newest exchange that had any). */
  historyPictures?: ReadonlyMap<string, readonly PromptPicture[]>;
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
  /** Pictures in the prompt (the question's and those resent with history). */
  pictures: number;
}

const cost = (counter: TokenCounter, text: string, pictures = 0): number => counter.count(text) + TOKENS_PER_MESSAGE + pictures * TOKENS_PER_PICTURE;

/** A user message: plain text, or its text followed by its pictures. */
function userMessage(text: string, pictures: readonly PromptPicture[] | undefined): ChatMessage {
  if (pictures === undefined || pictures.length === 0) return { role: 'user', content: text };
  const parts: ContentPart[] = [{ type: 'text', text }, ...pictures.map((picture): ContentPart => ({ type: 'image_url', image_url: { url: picture.url } }))];
  return { role: 'user', content: parts };
}

/**
 * Builds the prompt: the system prompt, then as many of the newest `maxExchanges` exchanges as fit in
 * `maxTokens`, oldest first, then the question (cut if even it alone does not fit).
 */
export function buildPrompt(input: PromptInput, counter: TokenCounter): PromptPlan {
  let system = systemText(input.systemPrompt, input.memory);
  // A system prompt may take at most half the budget, so the question always has room.
  const systemRoom = Math.floor(input.maxTokens / 2) - TOKENS_PER_MESSAGE;
  if (system !== undefined && counter.count(system) > systemRoom) system = counter.truncate(system, Math.max(0, systemRoom));
  const fixed = TOKENS_FOR_REPLY + (system !== undefined ? cost(counter, system) : 0);
  let question = input.question;
  let questionTruncated = false;
  const questionPictures = input.questionPictures?.length ?? 0;
  let budget = input.maxTokens - fixed - cost(counter, question, questionPictures);
  if (budget < 0) {
    // Pictures are an estimate that cannot be cut: they never squeeze the question's own words below
    // QUESTION_FLOOR_TOKENS (the prompt may then count over the budget by their estimate, never by text).
    const room = Math.max(
      questionPictures > 0 ? Math.min(counter.count(question), QUESTION_FLOOR_TOKENS) : 1,
      1,
      input.maxTokens - fixed - TOKENS_PER_MESSAGE - questionPictures * TOKENS_PER_PICTURE,
    );
    if (room < counter.count(question)) {
      question = counter.truncate(question, room);
      questionTruncated = true;
    }
    budget = input.maxTokens - fixed - cost(counter, question, questionPictures);
  }
  const candidates = input.maxExchanges > 0 ? input.history.slice(-input.maxExchanges) : [];
  const kept: Exchange[] = [];
  for (let i = candidates.length - 1; i >= 0; i -= 1) {
    const exchange = candidates[i] as Exchange;
    const size = cost(counter, exchange.user, input.historyPictures?.get(exchange.id)?.length ?? 0) + cost(counter, exchange.assistant);
    if (size > budget) break;
    budget -= size;
    kept.unshift(exchange);
  }
  const messages: ChatMessage[] = [];
  if (system !== undefined) messages.push({ role: 'system', content: system });
  let pictures = questionPictures;
  for (const exchange of kept) {
    const resent = input.historyPictures?.get(exchange.id);
    pictures += resent?.length ?? 0;
    messages.push(userMessage(exchange.user, resent), { role: 'assistant', content: exchange.assistant });
  }
  messages.push(userMessage(question, input.questionPictures));
  return {
    messages,
    exchangesUsed: kept.length,
    droppedForTokens: candidates.length - kept.length,
    questionTruncated,
    tokens: input.maxTokens - budget,
    pictures,
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
