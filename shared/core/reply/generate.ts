import type { Exchange } from '../../history/exchange';
import type { LlmAnswer } from '../../ports';
import { planPrompt } from '../prompt';
import type { ReplyRun } from './run';

/**
 * Plans the prompt (system prompt, the history that fits the token budget, the question) and asks the
 * LLM, within the run's time for work. With `onText` the answer is streamed and each growth is passed on
 * (a card shows it); without, it is asked for whole. Throws the LLM port's errors.
 */
export async function generate(
  run: ReplyRun,
  question: string,
  context: readonly Exchange[],
  onText?: (textSoFar: string) => void,
): Promise<LlmAnswer> {
  const { settings, llm, loadTokenCounter } = run.deps;
  const plan = await run.report.timed('prompt', () =>
    planPrompt(
      {
        systemPrompt: settings.systemPrompt,
        history: context,
        question,
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
  });
  const signal = run.deadline.work;
  const started = run.deps.clock.now();
  let firstTextAt: number | undefined;
  const answer = await run.report.timed('llm', () =>
    onText === undefined
      ? llm.complete(plan.messages, { signal })
      : llm.stream(plan.messages, {
          signal,
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
