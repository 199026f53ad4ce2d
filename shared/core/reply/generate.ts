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

/**
 * Plans the prompt (system prompt and the user's long-term memory, the history that fits the token budget,
 * the question and its pictures,
 * and the pictures of the newest earlier exchange that had some) and asks the LLM within the run's time
 * for work, with VISION_MODEL when the prompt carries a picture. With `onText` the answer is streamed and
 * each growth is passed on (a card shows it); without, it is asked for whole. Throws the LLM port's errors.
 */
export async function generate(
  run: ReplyRun,
  question: Question,
  context: readonly Exchange[],
  historyPictures: ReadonlyMap<string, PromptPicture[]>,
  memory: readonly string[],
  onText?: (textSoFar: string) => void,
): Promise<LlmAnswer> {
  const { settings, llm, loadTokenCounter } = run.deps;
  const plan = await run.report.timed('prompt', () =>
    planPrompt(
      {
        systemPrompt: settings.systemPrompt,
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
  const model = plan.pictures > 0 ? settings.visionModel : undefined;
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
  return answer;
}
