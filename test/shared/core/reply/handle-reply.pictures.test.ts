/**
 * Pictures through the reply core: a question with a picture goes to VISION_MODEL as an image part; the
 * newest exchange's pictures are kept beside the history and resent (once) with follow-up questions while
 * that exchange is in the window; `\clear` forgets them; history records a picture's type and size, never
 * its bytes; and a picture that cannot be read ends in one message with the claim released and the
 * question refunded. In-memory ports, the OpenAPI double and a downloader double serving files by code.
 */
import { MemoryObjectStore } from '../../../../shared/adapters/memory-object-store';
import { handleReply, type ReplyDeps, type ReplySettings } from '../../../../shared/core/reply/handle-reply';
import { INPUT_MESSAGES } from '../../../../shared/core/reply/input-messages';
import { encodeReplyTask, toReplyTask } from '../../../../shared/core/reply-task';
import { parseIncomingMessage } from '../../../../shared/dingtalk/message';
import { DownloadError } from '../../../../shared/errors';
import { ObjectPictureStore } from '../../../../shared/history/pictures';
import type { ChatMessage, ContentPart, Downloaded, Downloader } from '../../../../shared/ports';
import { dingtalkSample } from '../../../helpers/fixtures';
import { OpenApiDouble } from '../../../helpers/openapi-double';
import { errors } from '../../../helpers/ports';
import { replySetup } from '../../../helpers/reply-deps';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A picture whose bytes are easy to find: a PNG signature and a marker. */
const picture = (marker: string): Buffer => Buffer.concat([PNG_SIGNATURE, Buffer.from(`PICTURE-BYTES-${marker}`)]);
const dataUrlOf = (bytes: Buffer): string => `data:image/png;base64,${bytes.toString('base64')}`;

const KEY = { conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' };
const VISION_MODEL = 'qwen-vl-max';

/** Serves files by download code from the OpenAPI double's links, bounded like the real downloader. */
class FileShelf implements Downloader {
  readonly files = new Map<string, Buffer>();
  readonly downloads: string[] = [];
  async download(url: string, options: { maxBytes: number }): Promise<Downloaded> {
    const code = decodeURIComponent(new URL(url).pathname.slice(1));
    this.downloads.push(code);
    const bytes = this.files.get(code);
    if (bytes === undefined) throw new DownloadError('http', 'download.example.invalid answered HTTP 404 to the download', { status: 404 });
    if (bytes.length > options.maxBytes) throw new DownloadError('too-large', `the file is larger than ${options.maxBytes} bytes`);
    return { bytes, contentType: 'application/octet-stream' };
  }
}

/** The reply core with the OpenAPI, the downloader double and the picture store, plus task builders. */
function setup(settings: Partial<ReplySettings> = { visionModel: VISION_MODEL }) {
  const store = new MemoryObjectStore();
  const base = replySetup({ settings, store });
  const shelf = new FileShelf();
  const pictures = new ObjectPictureStore(store, 'history/');
  const deps: ReplyDeps = { ...base.deps, openApi: new OpenApiDouble(base.clock), downloader: shelf, pictures };
  let sequence = 0;
  /** A task of the `sample` with `changes`, each with its own msgId and a later createAt. */
  const task = (sample: string, changes: Record<string, unknown>): string => {
    sequence += 1;
    const body = { ...dingtalkSample(sample), ...changes };
    body.msgId = `msg-pictures-${sequence}`;
    body.createAt = 1732000000000 + sequence * 1000;
    return encodeReplyTask(toReplyTask(parseIncomingMessage(body), base.clock.now()));
  };
  const text = (question: string): string => task('text-1to1', { text: { content: question } });
  /** A picture message whose file is `bytes` (served under a code of its own). */
  const pictureMessage = (bytes: Buffer): string => {
    const code = `dc-${sequence + 1}`;
    shelf.files.set(code, bytes);
    return task('picture', { content: { downloadCode: code } });
  };
  const saved = () => deps.history.loadRecent(KEY, 10);
  /** Keys of the kept pictures' objects. */
  const pictureObjects = (): string[] => [...store.objects.keys()].filter((key) => key.startsWith('history/pictures/'));
  return { ...base, store, deps, shelf, pictures, task, text, pictureMessage, saved, pictureObjects };
}

/** The image URLs of a message, in order. */
function images(message: ChatMessage | undefined): string[] {
  if (message === undefined || typeof message.content === 'string') return [];
  return message.content.flatMap((part: ContentPart) => (part.type === 'image_url' ? [part.image_url.url] : []));
}

/** Every image URL of a prompt. */
const allImages = (prompt: readonly ChatMessage[] | undefined): string[] => (prompt ?? []).flatMap((message) => images(message));

/** The text of a user message, whether plain or in parts. */
function textOf(message: ChatMessage | undefined): string | undefined {
  if (message === undefined) return undefined;
  if (typeof message.content === 'string') return message.content;
  return message.content.flatMap((part: ContentPart) => (part.type === 'text' ? [part.text] : [])).join('');
}

describe('pictures through the reply core', () => {
  it('asks VISION_MODEL with the picture as an image part after its text', async () => {
    const { deps, llm, webhook, pictureMessage } = setup();
    const bytes = picture('one');
    llm.answer('A tiny picture.');
    expect(await handleReply(pictureMessage(bytes), deps)).toBe('answered');
    expect(llm.prompts[0]).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: '[picture 1]' },
          { type: 'image_url', image_url: { url: dataUrlOf(bytes) } },
        ],
      },
    ]);
    expect(llm.options[0]?.model).toBe(VISION_MODEL);
    expect(webhook.texts()).toEqual(['A tiny picture.']);
  });

  it('asks a text question with the configured model: VISION_MODEL only when the prompt carries a picture', async () => {
    const { deps, llm, text } = setup();
    expect(await handleReply(text('hello'), deps)).toBe('answered');
    expect(llm.options[0]).toBeDefined();
    expect(llm.options[0]?.model).toBeUndefined();
  });

  it('asks a picture question with the configured model when VISION_MODEL is not set', async () => {
    const { deps, llm, pictureMessage } = setup({});
    expect(await handleReply(pictureMessage(picture('plain')), deps)).toBe('answered');
    expect(allImages(llm.prompts[0])).toHaveLength(1);
    expect(llm.options[0]?.model).toBeUndefined();
  });

  it('keeps the text and pictures of a rich-text message in order, and records each picture in history', async () => {
    const { deps, llm, task, shelf, saved } = setup();
    const first = picture('rich-1');
    const second = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('JPEG-BYTES')]);
    shelf.files.set('dc-r1', first);
    shelf.files.set('dc-r2', second);
    const content = { richText: [{ text: 'before' }, { type: 'picture', downloadCode: 'dc-r1' }, { text: 'between' }, { type: 'picture', downloadCode: 'dc-r2' }] };
    expect(await handleReply(task('rich-text', { content }), deps)).toBe('answered');
    expect(llm.prompts[0]?.at(-1)?.content).toEqual([
      { type: 'text', text: 'before\n[picture 1]\nbetween\n[picture 2]' },
      { type: 'image_url', image_url: { url: dataUrlOf(first) } },
      { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${second.toString('base64')}` } },
    ]);
    expect((await saved())[0]?.pictures).toEqual([
      { mediaType: 'image/png', bytes: first.length },
      { mediaType: 'image/jpeg', bytes: second.length },
    ]);
  });

  it('sends the picture again, once, with the follow-up question, and with VISION_MODEL', async () => {
    const { deps, llm, pictureMessage, text } = setup();
    const bytes = picture('follow-up');
    llm.answer('A picture.', 'It is grey.');
    await handleReply(pictureMessage(bytes), deps);
    expect(await handleReply(text('What colour is it?'), deps)).toBe('answered');
    const followUp = llm.prompts[1] ?? [];
    expect(followUp.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(images(followUp[0])).toEqual([dataUrlOf(bytes)]);
    expect(allImages(followUp)).toEqual([dataUrlOf(bytes)]);
    expect(textOf(followUp[0])).toBe('[picture 1]');
    expect(followUp[2]).toEqual({ role: 'user', content: 'What colour is it?' });
    expect(llm.options[1]?.model).toBe(VISION_MODEL);
  });

  it("resends only the newest exchange's pictures; the older one's are deleted from the store", async () => {
    const { deps, llm, pictureMessage, text, pictureObjects } = setup();
    const older = picture('older');
    const newer = picture('newer');
    await handleReply(pictureMessage(older), deps);
    await handleReply(pictureMessage(newer), deps);
    await handleReply(text('Compare them'), deps);
    const prompt = llm.prompts[2] ?? [];
    expect(prompt.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(prompt[0]).toEqual({ role: 'user', content: '[picture 1]' });
    expect(images(prompt[2])).toEqual([dataUrlOf(newer)]);
    expect(allImages(prompt)).toEqual([dataUrlOf(newer)]);
    expect(pictureObjects()).toHaveLength(1);
  });

  it('stops resending a picture once its exchange is out of the history window', async () => {
    const { deps, llm, pictureMessage, text } = setup({ visionModel: VISION_MODEL, historyLength: 1 });
    await handleReply(pictureMessage(picture('windowed')), deps);
    await handleReply(text('first follow-up'), deps);
    await handleReply(text('second follow-up'), deps);
    expect(allImages(llm.prompts[1])).toHaveLength(1);
    expect(allImages(llm.prompts[2])).toEqual([]);
    expect(llm.options[2]?.model).toBeUndefined();
  });

  it('after \\clear resends nothing, and the picture objects are gone', async () => {
    const { deps, llm, webhook, pictureMessage, text, pictureObjects } = setup();
    await handleReply(pictureMessage(picture('cleared')), deps);
    expect(pictureObjects()).toHaveLength(1);
    expect(await handleReply(text('\\clear'), deps)).toBe('cleared');
    expect(pictureObjects()).toEqual([]);
    await handleReply(text('What was in the picture?'), deps);
    expect(llm.prompts[1]).toEqual([{ role: 'user', content: 'What was in the picture?' }]);
    expect(llm.options[1]?.model).toBeUndefined();
    expect(webhook.texts()).toHaveLength(3);
  });

  it('saves the exchange with the pictures\' type and size, and history objects never hold their bytes', async () => {
    const { deps, store, pictureMessage, saved } = setup();
    const bytes = picture('never-in-history');
    await handleReply(pictureMessage(bytes), deps);
    const exchanges = await saved();
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]?.user).toBe('[picture 1]');
    expect(exchanges[0]?.pictures).toEqual([{ mediaType: 'image/png', bytes: bytes.length }]);
    const historyObjects = [...store.objects.entries()].filter(([key]) => !key.startsWith('history/pictures/'));
    expect(historyObjects.length).toBeGreaterThan(0);
    for (const [key, body] of historyObjects) {
      expect({ key, raw: body.includes(Buffer.from('PICTURE-BYTES-never-in-history')) }).toEqual({ key, raw: false });
      expect({ key, base64: body.toString('latin1').includes(bytes.toString('base64').slice(0, 24)) }).toEqual({ key, base64: false });
    }
  });

  it('keeps no picture when the LLM fails, and saves nothing', async () => {
    const { deps, llm, pictureMessage, saved, pictureObjects } = setup();
    llm.answer(errors.timeout());
    expect(await handleReply(pictureMessage(picture('llm-failed')), deps)).toBe('llm_failed');
    expect(pictureObjects()).toEqual([]);
    expect(await saved()).toEqual([]);
  });
});

describe('a picture that cannot be read', () => {
  it('gets one short message, asks the LLM nothing, saves and keeps nothing', async () => {
    const { deps, llm, webhook, pictureMessage, saved, pictureObjects } = setup();
    expect(await handleReply(pictureMessage(Buffer.from('<html>not a picture</html>')), deps)).toBe('input_refused');
    expect(webhook.texts()).toEqual([INPUT_MESSAGES.notAPicture]);
    expect(llm.prompts).toEqual([]);
    expect(await saved()).toEqual([]);
    expect(pictureObjects()).toEqual([]);
  });

  it('releases the claim: the same message asked again (FC or the user) is answered', async () => {
    const { deps, llm, webhook, task, shelf } = setup();
    shelf.files.set('dc-retry', Buffer.from('<html>oops</html>'));
    const message = task('picture', { content: { downloadCode: 'dc-retry' } });
    expect(await handleReply(message, deps)).toBe('input_refused');
    shelf.files.set('dc-retry', picture('second-try'));
    llm.answer('Now I see it.');
    expect(await handleReply(message, deps)).toBe('answered');
    expect(webhook.texts()).toEqual([INPUT_MESSAGES.notAPicture, 'Now I see it.']);
  });

  it('gives the question back to the daily limit', async () => {
    const { deps, llm, webhook, pictureMessage, text } = setup({ visionModel: VISION_MODEL, dailyMessageLimit: 1 });
    expect(await handleReply(pictureMessage(Buffer.from('%PDF-1.7')), deps)).toBe('input_refused');
    llm.answer('Answered within the limit.');
    expect(await handleReply(text('a real question'), deps)).toBe('answered');
    expect(webhook.texts()).toEqual([INPUT_MESSAGES.notAPicture, 'Answered within the limit.']);
    expect(await handleReply(text('one too many'), deps)).toBe('limit_reached');
  });
});
