import { LlmRefusedError, LlmUnavailableError, WebhookError } from '../../shared/errors';
import type {
  ChatMessage,
  Clock,
  InvokeResult,
  LlmAnswer,
  LlmCallOptions,
  LlmClient,
  OutgoingMessage,
  ReplyInvoker,
  WebhookSender,
} from '../../shared/ports';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(public time = Date.UTC(2026, 10, 21, 8, 0, 0)) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * An invoker that records payloads and task ids, or fails when told to. Like FC in async task mode,
 * it answers a task id it has seen before as a duplicate and starts nothing.
 */
export class RecordingInvoker implements ReplyInvoker {
  readonly payloads: string[] = [];
  readonly taskIds: Array<string | undefined> = [];
  failWith: Error | undefined;
  async invoke(payload: string, options?: { taskId?: string }): Promise<InvokeResult> {
    if (this.failWith) throw this.failWith;
    if (options?.taskId !== undefined && this.taskIds.includes(options.taskId)) return { duplicate: true };
    this.payloads.push(payload);
    this.taskIds.push(options?.taskId);
    return { requestId: `inv-${this.payloads.length}` };
  }
}

/** An LLM that answers from a script and records every prompt. */
export class ScriptedLlm implements LlmClient {
  readonly prompts: ChatMessage[][] = [];
  /** The options of each call, in the order of `prompts` (the model a call named, its signal). */
  readonly options: Array<LlmCallOptions | undefined> = [];
  private readonly script: Array<string | Error> = [];
  answer(...items: Array<string | Error>): this {
    this.script.push(...items);
    return this;
  }
  async complete(messages: readonly ChatMessage[], options?: LlmCallOptions): Promise<LlmAnswer> {
    this.prompts.push([...messages]);
    this.options.push(options);
    const next = this.script.shift() ?? `answer ${this.prompts.length}`;
    if (next instanceof Error) throw next;
    return { text: next, model: 'scripted', promptTokens: 10, completionTokens: 5 };
  }
  /** Streams the scripted answer word by word through `onText`. */
  async stream(messages: readonly ChatMessage[], options: LlmCallOptions): Promise<LlmAnswer> {
    const answer = await this.complete(messages, options);
    const words = answer.text.split(/(?<= )/);
    let soFar = '';
    for (const word of words) {
      soFar += word;
      options.onText?.(soFar);
    }
    return answer;
  }
}

/** A webhook sender that records messages, or fails when told to. */
export class RecordingWebhook implements WebhookSender {
  readonly sent: Array<{ url: string; message: OutgoingMessage }> = [];
  failWith: Error | undefined;
  async send(url: string, message: OutgoingMessage): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.sent.push({ url, message });
  }
  /** The text of each message sent, whatever its msgtype. */
  texts(): string[] {
    return this.sent.map(({ message }) => (message.msgtype === 'markdown' ? message.markdown.text : message.text.content));
  }
}

export const errors = {
  badKey: () => new LlmRefusedError('auth', 'the LLM refused the API key: 401', 401),
  timeout: () => new LlmUnavailableError('timeout', 'the LLM did not answer in time'),
  expired: () => new WebhookError('expired', 'the session webhook has expired (errcode 300001)', { errcode: 300001 }),
};
