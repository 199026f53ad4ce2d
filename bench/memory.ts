/**
 * What the long-term memory (issue 12) costs, and the bench's side of it: the LLM fake's answer to the
 * memory's update call, telling that call apart from a chat request, and the answer path of a warm message
 * (the part of the reply a user waits for, which the update after delivery must not lengthen).
 */
import type { OpenAiFakeChatRequest, OpenAiFakeRequestLog } from '../test/fakes/openai-fake';
import { byMessage, type Wait } from './server-waits';

/** The reply's variables with the long-term memory off (it is on by default, as shipped). */
export const MEMORY_OFF: Readonly<Record<string, string>> = { MEMORY_ENABLED: 'false' };

/**
 * Questions that ask the bot to remember a fact, kept at once ("remember that …"): the bench's user has these
 * in memory, so each prompt with memory on carries them (the bench checks that it does).
 */
export const REMEMBER_QUESTIONS = [
  'Remember that my name is Zhang San.',
  'Remember that I work on the payments team.',
  '请记住：我们的发布日是每月15号。',
] as const;

/** The facts {@link REMEMBER_QUESTIONS} keep, as a prompt shows them. */
export const REMEMBERED_FACTS = ['my name is Zhang San', 'I work on the payments team', '我们的发布日是每月15号'] as const;

/** Whether a request body is the memory's update call: the only request the reply makes in JSON mode. */
export function isMemoryUpdate(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const format = (body as { response_format?: { type?: unknown } }).response_format;
  return format?.type === 'json_object';
}

/** The chat requests among what an LLM fake received (the memory's update calls left out), in order. */
export function chatRequests(requests: readonly OpenAiFakeRequestLog[]): OpenAiFakeRequestLog[] {
  return requests.filter((request) => !isMemoryUpdate(request.body));
}

/**
 * The LLM fake's answer to an update call: the list it was given, unchanged, as the model answers when the
 * exchanges leaving the window hold nothing worth keeping (most of them). The list is read from the user
 * message, whose JSON follows its first line; a prompt the fake cannot read gets an answer of the wrong
 * shape, which the memory refuses and logs, so the bench never erases a list by mistake.
 */
export function memoryUpdateAnswer(request: Pick<OpenAiFakeChatRequest, 'messages'>): string {
  const content = request.messages[1]?.content ?? '';
  try {
    const payload = JSON.parse(content.slice(content.indexOf('\n') + 1)) as { memories?: unknown };
    if (Array.isArray(payload.memories) && payload.memories.every((item) => typeof item === 'string')) return JSON.stringify({ memories: payload.memories });
  } catch {
    // Falls through to the refused shape.
  }
  return JSON.stringify({ unreadable: 'the bench fake could not read the update prompt' });
}

/**
 * The answer path of each warm message: from the handler's call to the answer's webhook post reaching the
 * sink, minus the time the chat request spent inside the LLM fake. What the reply does after the answer
 * was posted (the memory's update call and its writes) is left out: the user no longer waits for it.
 * `starts` are the calls' starts and `llm`/`webhook` the fakes' waits, all on the monotonic clock. The
 * chat request is a message's first LLM request (the update call comes after the answer), the answer its
 * last webhook post; throws for a message without either.
 */
export function answerPathMs(starts: readonly number[], llm: readonly Wait[], webhook: readonly Wait[]): number[] {
  const llmByMessage = byMessage(starts, llm);
  const postsByMessage = byMessage(starts, webhook);
  return starts.map((start, i) => {
    const chat = llmByMessage[i]?.[0];
    const post = postsByMessage[i]?.at(-1);
    if (chat === undefined || post === undefined) throw new Error(`message ${i + 1}: expected an LLM request and a webhook post`);
    return post.start - start - chat.ms;
  });
}
