import type { Exchange } from '../../history/exchange';
import type { StoredPicture } from '../../history/pictures';
import { dataUrl } from '../../media/media-type';
import type { LlmAnswer } from '../../ports';
import { planPrompt, type PromptPicture } from '../prompt';
import type { Question } from './inputs';
import type { ReplyRun } from './run';

/** Pictures as the prompt sends them. */
export const promptPictures = (pictures: readonly StoredPicture[]): PromptPicture[] =>
  pictures.map((picture) => ({ url: dataUrl(picture.bytes, picture.mediaType) }));

/** What one question is asked with, besides the run. */
export interface GenerateInput {
  question: Question;
  /** The history the run loaded, oldest first. */
  context: readonly Exchange[];
  /** Pictures resent with an earlier exchange, by its id. */
  historyPictures: ReadonlyMap<string, PromptPicture[]>;
  /** The user's long-term memory. */
  memory: readonly string[];
  /** What the conversation chose with `\model` and `\system`. */
  conversation: { model?: string; system?: string };
  /** Receives the answer as it grows (a card); without it the answer is asked for whole. */
  onText?: (textSoFar: string) => void;
}

/**
 * Plans the prompt (the system prompt with the conversation's own and the user's long-term memory, the
 * history that fits the token budget, the question and its pictures, and the pictures of the newest earlier
 * exchange that had some) and asks the LLM within the run's time for work: with VISION_MODEL when the prompt
 * carries a picture, else the conversation's model when it chose one. With `onText` the answer is streamed
 * and each growth is passed on (a card shows it). Throws the LLM port's errors.
 */
export async function generate(run: ReplyRun, input: GenerateInput): Promise<LlmAnswer & { promptTokensEstimate: number }> {
  const { question, context, historyPictures, memory, conversation, onText } = input;
  const { settings, llm, loadTokenCounter } = run.deps;
  const plan = await run.report.timed('prompt', () =>
    planPrompt(
      {
        systemPrompt: [settings.systemPrompt, conversation.system].filter((part) => part !== undefined && part.trim() !== '').join('\n\n'),
        memory,
        history: context,
        question: question.text,
        questionPictures: promptPictures(question.pictures),
        historyPictures,
        maxExchanges: settings.historyLength,
        maxTokens: settings.maxContextTokens,
      },
      loadTokenCounter,
    ),
  );
  run.report.set({
    historyLoaded: context.length,
    historyUsed: plan.exchangesUsed,
    droppedForTokens: plan.droppedForTokens,
    questionTruncated: plan.questionTruncated,
    promptTokensEstimate: plan.tokens,
    ...(plan.pictures > 0 ? { picturesSent: plan.pictures } : {}),
  });
  const signal = run.deadline.work;
  const model = plan.pictures > 0 && settings.visionModel !== undefined ? settings.visionModel : conversation.model;
  const options = { signal, ...(model !== undefined ? { model } : {}) };
  const started = run.deps.clock.now();
  let firstTextAt: number | undefined;
  const answer = await run.report.timed('llm', () =>
    onText === undefined
      ? llm.complete(plan.messages, options)
      : llm.stream(plan.messages, {
          ...options,
          onText: (textSoFar) => {
            firstTextAt ??= run.deps.clock.now();
            onText(textSoFar);
          },
        }),
  );
  if (firstTextAt !== undefined) run.report.set({ firstTextMs: firstTextAt - started });
  run.report.set({ model: answer.model, promptTokens: answer.promptTokens, completionTokens: answer.completionTokens });
  return { ...answer, promptTokensEstimate: plan.tokens };
}
