import { LlmRefusedError, LlmUnavailableError } from '../errors';

/**
 * The short texts users see when the bot cannot answer. Chinese first (most DingTalk users read it
 * first), English after. They never carry provider bodies, stacks or secrets: the log has the cause.
 */
export const USER_MESSAGES = {
  misconfigured: '抱歉，机器人配置有误，暂时无法回答，已记录日志，请联系管理员。\n\nSorry, the bot is misconfigured and cannot answer; the administrator can see why in the logs.',
  timeout: '抱歉，模型响应超时，请稍后再试。\n\nSorry, the model took too long to answer. Please try again in a moment.',
  unavailable: '抱歉，模型暂时不可用，请稍后再试。\n\nSorry, the model is unavailable right now. Please try again in a moment.',
  filtered: '抱歉，模型拒绝回答这条消息。\n\nSorry, the model declined to answer this message.',
  empty: '抱歉，模型没有给出回答，请换个说法再试。\n\nSorry, the model gave no answer. Please try rephrasing.',
  rejected: '抱歉，模型无法处理这条消息。\n\nSorry, the model could not process this message.',
  vision:
    '抱歉，当前模型无法查看图片。请管理员设置 VISION_MODEL 为支持图片的模型（如 qwen-vl-max、gpt-4o、glm-4v）。\n\nSorry, the current model cannot look at pictures; the administrator can set VISION_MODEL to a model that can (e.g. qwen-vl-max, gpt-4o, glm-4v).',
  unsupported: '抱歉，我目前只能阅读文字消息。\n\nSorry, I can only read text for now.',
  clearFailed: '抱歉，暂时无法清除对话记录，请稍后再试。\n\nSorry, the history could not be cleared right now. Please try again later.',
  cleared: '已清除我们的对话记录。\n\nOur conversation history has been cleared.',
  notAllowed:
    '抱歉，你暂时没有使用这个机器人的权限，请联系管理员开通。\n\nSorry, this bot is not available to you here; please ask the administrator for access.',
} as const;

/** The message for a user who has asked `limit` questions today. */
export function dailyLimitMessage(limit: number, timeZone: string): string {
  return (
    `今天的 ${limit} 次提问额度已用完，将在午夜（${timeZone}）重置，明天见！\n\n` +
    `You have used today's ${limit} questions; the limit resets at midnight (${timeZone}). See you tomorrow!`
  );
}

/** The one message a user gets for an LLM failure. */
export function llmFailureMessage(error: unknown): string {
  if (error instanceof LlmRefusedError) {
    switch (error.reason) {
      case 'auth':
      case 'model':
      case 'incompatible':
      case 'endpoint':
        return USER_MESSAGES.misconfigured;
      case 'filtered':
        return USER_MESSAGES.filtered;
      case 'empty':
        return USER_MESSAGES.empty;
      case 'request':
        return USER_MESSAGES.rejected;
      case 'vision':
        return USER_MESSAGES.vision;
    }
  }
  if (error instanceof LlmUnavailableError && (error.reason === 'timeout' || error.reason === 'deadline')) return USER_MESSAGES.timeout;
  return USER_MESSAGES.unavailable;
}
