import { DingTalkApiError, DownloadError, describeError } from '../../errors';
import type { MessageContent, MessagePart, Quote } from '../../dingtalk/message';
import type { StoredPicture } from '../../history/pictures';
import { pictureMediaType } from '../../media/media-type';
import { INPUT_MESSAGES, tooLargeMessage, unsupportedFileMessage } from './input-messages';
import { findQuotedAnswer, shortenedAnswer, type EarlierExchanges } from './quoted-answer';
import type { ReplyRun } from './run';

/**
 * Bytes of pictures one message may bring (all its pictures together). DingTalk compresses the pictures it
 * sends unless the user picks "original", and screenshots are far smaller; the bound keeps the reply within
 * s.yaml's memory size (`reply_peak_rss_mb_picture` in the README's "Performance and cost").
 */
export const MAX_PICTURE_BYTES = 5 * 1024 * 1024;

/** Bytes of a text file downloaded at most; larger files are refused before they are read. */
export const MAX_FILE_DOWNLOAD_BYTES = 1024 * 1024;

/** Bytes of a text file's content put into the prompt; the rest is cut with a note. */
export const MAX_FILE_PROMPT_BYTES = 64 * 1024;

/** Extensions of the files the bot reads as text: plain text, markdown, data and source code. */
export const TEXT_FILE_EXTENSIONS: readonly string[] = [
  'txt', 'md', 'markdown', 'csv', 'tsv', 'json', 'jsonl', 'yaml', 'yml', 'xml', 'toml', 'ini', 'log', 'sql',
  'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'py', 'java', 'kt', 'go', 'rs', 'c', 'h', 'cc', 'cpp', 'hpp', 'cs', 'rb',
  'php', 'swift', 'scala', 'lua', 'r', 'sh', 'bash', 'ps1', 'html', 'css', 'scss', 'vue', 'proto', 'gradle', 'dockerfile',
];

/** A message's content that goes to the model (commands and unsupported kinds stop at the gates). */
export type ChatContent = Extract<MessageContent, { kind: 'text' | 'parts' | 'file' }>;

/** What the model is asked: the text (also what history keeps) and the pictures, in the order the text names them. */
export interface Question {
  /** The user's turn as text: quotes and files included, each picture as a `[picture N]` marker where it was. */
  text: string;
  pictures: StoredPicture[];
}

/** The question, or the short message that says why it cannot be asked. */
export type InputResult = { ok: true; question: Question } | { ok: false; message: string; reason: string };

/** Thrown inside this module to stop with a user message. */
class InputRefusal extends Error {
  constructor(
    readonly userMessage: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Reads DingTalk's downloadable things through the OpenAPI and the downloader, within the run's time. */
class Fetcher {
  private pictureBytes = 0;

  constructor(private readonly run: ReplyRun) {}

  /** `limitBytes`: the limit the user is told of when the download is too large (the whole budget, not what is left of it). */
  private async bytes(downloadCode: string, maxBytes: number, what: 'picture' | 'file', limitBytes = maxBytes): Promise<{ bytes: Buffer; contentType?: string }> {
    const { openApi, downloader } = this.run.deps;
    if (openApi === undefined || downloader === undefined) {
      throw new InputRefusal(what === 'picture' ? INPUT_MESSAGES.picturesNeedClientId : INPUT_MESSAGES.filesNeedClientId, 'no-client-id');
    }
    const signal = this.run.deadline.work;
    try {
      const url = await openApi.fileDownloadUrl(downloadCode, { signal });
      return await downloader.download(url, { maxBytes, signal });
    } catch (error) {
      if (error instanceof DownloadError && error.reason === 'too-large') throw new InputRefusal(tooLargeMessage(what, limitBytes), 'too-large');
      if (error instanceof DingTalkApiError && error.isConfiguration) {
        this.run.configProblem(`download:${error.code ?? error.reason}`, {
          channel: 'download',
          fix: 'grant the app the qyapi_robot_sendmsg permission (robot messages and their files) in the developer console',
          error: error.message,
        });
      }
      this.run.log.warn('reply.download_failed', { what, error: describeError(error) });
      throw new InputRefusal(INPUT_MESSAGES.downloadFailed, 'download-failed');
    }
  }

  /** Downloads a picture within what is left of the message's picture budget. */
  async picture(downloadCode: string): Promise<StoredPicture> {
    const left = MAX_PICTURE_BYTES - this.pictureBytes;
    if (left <= 0) throw new InputRefusal(tooLargeMessage('picture', MAX_PICTURE_BYTES), 'too-large');
    const { bytes } = await this.bytes(downloadCode, left, 'picture', MAX_PICTURE_BYTES);
    const mediaType = pictureMediaType(bytes);
    if (mediaType === undefined) throw new InputRefusal(INPUT_MESSAGES.notAPicture, 'not-a-picture');
    this.pictureBytes += bytes.length;
    return { bytes, mediaType };
  }

  /** Downloads a text file and returns its text, cut to the prompt budget. */
  async textFile(downloadCode: string, fileName: string): Promise<{ text: string; cutFrom?: number }> {
    const { bytes } = await this.bytes(downloadCode, MAX_FILE_DOWNLOAD_BYTES, 'file');
    if (bytes.includes(0)) throw new InputRefusal(unsupportedFileMessage(fileName, TEXT_FILE_EXTENSIONS), 'binary-file');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new InputRefusal(unsupportedFileMessage(fileName, TEXT_FILE_EXTENSIONS), 'not-utf8');
    }
    if (bytes.length <= MAX_FILE_PROMPT_BYTES) return { text };
    // Cut on a character boundary within the byte budget: a streaming decode holds back a character cut
    // in two (the text is valid UTF-8), where stripping trailing U+FFFD would also drop the file's own.
    const cut = new TextDecoder('utf-8').decode(bytes.subarray(0, MAX_FILE_PROMPT_BYTES), { stream: true });
    return { text: cut, cutFrom: bytes.length };
  }
}

/** The extension of a file name, lower case (`Dockerfile` counts as `dockerfile`). */
function extensionOf(fileName: string): string {
  const lower = fileName.toLowerCase();
  const dot = lower.lastIndexOf('.');
  return dot === -1 ? lower : lower.slice(dot + 1);
}

/** A fence that the file's own text cannot close. */
function fenceFor(text: string): string {
  let fence = '```';
  while (text.includes(fence)) fence += '`';
  return fence;
}

/** `text` as quoted lines under `heading`. */
const quoted = (heading: string, text: string): string => `${heading}\n${text.split('\n').map((line) => `> ${line}`).join('\n')}\n\n`;

/**
 * The text of a quote put in front of the question, and its picture if it has one. A quote known only by
 * its id is looked up among the bot's answers in `earlier` (see quoted-answer.ts); not found, the model is
 * told the quoted text is not available.
 */
async function quoteText(run: ReplyRun, quote: Quote | undefined, fetcher: Fetcher, pictures: StoredPicture[], earlier: EarlierExchanges | undefined): Promise<string> {
  if (quote === undefined) return '';
  switch (quote.kind) {
    case 'text':
      return quoted('[引用 / Quoted message]', quote.text);
    case 'picture':
      pictures.push(await fetcher.picture(quote.downloadCode));
      return `[引用 / Quoted message: picture ${pictures.length}]\n\n`;
    case 'reference': {
      const found = await findQuotedAnswer(run, quote, earlier);
      if (found !== undefined) return quoted('[引用 / Quoted message: your earlier answer]', shortenedAnswer(found.exchange.assistant));
      return '[The user is replying to an earlier message whose text is not available here.]\n\n';
    }
  }
}

/** Text and picture parts in order, each picture named by its number among the question's pictures. */
async function partsText(parts: readonly MessagePart[], fetcher: Fetcher, pictures: StoredPicture[]): Promise<string> {
  const lines: string[] = [];
  for (const part of parts) {
    if (part.kind === 'text') {
      lines.push(part.text);
    } else {
      pictures.push(await fetcher.picture(part.downloadCode));
      lines.push(`[picture ${pictures.length}]`);
    }
  }
  return lines.join('\n');
}

/** The question for `content`; throws `InputRefusal` for what cannot be read. */
async function questionFor(
  run: ReplyRun,
  content: ChatContent,
  typed: string | undefined,
  fetcher: Fetcher,
  pictures: StoredPicture[],
  earlier: EarlierExchanges | undefined,
): Promise<InputResult> {
  switch (content.kind) {
    case 'text': {
      const quote = await quoteText(run, content.quote, fetcher, pictures, earlier);
      return { ok: true, question: { text: quote + (typed ?? content.text), pictures } };
    }
    case 'parts': {
      const quote = await quoteText(run, content.quote, fetcher, pictures, earlier);
      return { ok: true, question: { text: quote + (await partsText(content.parts, fetcher, pictures)), pictures } };
    }
    case 'file': {
      if (!TEXT_FILE_EXTENSIONS.includes(extensionOf(content.fileName))) {
        return { ok: false, message: unsupportedFileMessage(content.fileName, TEXT_FILE_EXTENSIONS), reason: 'file-type' };
      }
      const file = await fetcher.textFile(content.downloadCode, content.fileName);
      const fence = fenceFor(file.text);
      const note =
        file.cutFrom !== undefined ? `\n[The file was cut: the first ${MAX_FILE_PROMPT_BYTES} of its ${file.cutFrom} bytes are shown.]` : '';
      run.report.set({ fileBytes: Buffer.byteLength(file.text), ...(file.cutFrom !== undefined ? { fileCut: true } : {}) });
      const text = `[File: ${content.fileName}]\n${fence}${extensionOf(content.fileName)}\n${file.text}\n${fence}${note}\n\nPlease look at this file.`;
      return { ok: true, question: { text, pictures } };
    }
  }
}

/**
 * Turns what the user sent into the question for the model: a quote in front of the question (its text,
 * or its picture), pictures downloaded through DingTalk's OpenAPI (at most {@link MAX_PICTURE_BYTES} in all,
 * their type from their bytes), a text file fenced with its name (cut to {@link MAX_FILE_PROMPT_BYTES} with
 * a note). Anything that cannot be read ends in one short message saying why. `typed` is a text message's
 * question as the command parser left it; `earlier`, the history a quote of the bot's own answer is looked
 * up in (awaited only for such a quote).
 */
export async function readInput(run: ReplyRun, content: ChatContent, typed?: string, earlier?: EarlierExchanges): Promise<InputResult> {
  const fetcher = new Fetcher(run);
  const pictures: StoredPicture[] = [];
  try {
    return await questionFor(run, content, typed, fetcher, pictures, earlier);
  } catch (error) {
    if (error instanceof InputRefusal) return { ok: false, message: error.userMessage, reason: error.reason };
    throw error;
  } finally {
    if (pictures.length > 0) run.report.set({ pictures: pictures.length, pictureBytes: pictures.reduce((sum, picture) => sum + picture.bytes.length, 0) });
  }
}
