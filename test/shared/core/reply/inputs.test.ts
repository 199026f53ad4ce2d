/**
 * `readInput` turns what a user sent into the question for the model: a quote in front (its text, its
 * picture, or a note that it cannot be seen), pictures downloaded through DingTalk's OpenAPI within one
 * 5 MB budget per message and typed by their bytes, text files fenced and cut to the prompt budget, and
 * one short message for anything that cannot be read. Run on a ReplyRun of the shared in-memory deps, the
 * OpenAPI double and a downloader double that serves files by download code.
 */
import { DownloadError } from '../../../../shared/errors';
import {
  MAX_FILE_DOWNLOAD_BYTES,
  MAX_FILE_PROMPT_BYTES,
  MAX_PICTURE_BYTES,
  readInput,
  TEXT_FILE_EXTENSIONS,
  type ChatContent,
  type InputResult,
  type Question,
} from '../../../../shared/core/reply/inputs';
import { INPUT_MESSAGES, tooLargeMessage, unsupportedFileMessage } from '../../../../shared/core/reply/input-messages';
import type { ReplyDeps } from '../../../../shared/core/reply/deps';
import { ReplyRun } from '../../../../shared/core/reply/run';
import { parseReplyTask } from '../../../../shared/core/reply-task';
import type { Downloaded, Downloader } from '../../../../shared/ports';
import { dingTalkFailures, OpenApiDouble } from '../../../helpers/openapi-double';
import { replySetup } from '../../../helpers/reply-deps';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const png = (size = 64, fill = 1): Buffer => Buffer.concat([PNG_SIGNATURE, Buffer.alloc(Math.max(0, size - PNG_SIGNATURE.length), fill)]);
const jpeg = (size = 64): Buffer => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(size - 4, 2)]);
const MB = 1024 * 1024;

/** The OpenAPI double whose download call can be told to fail (like DingTalk's answers map to errors). */
class DownloadingOpenApi extends OpenApiDouble {
  readonly downloadCodes: string[] = [];
  downloadFailure: (() => Error) | undefined;
  override async fileDownloadUrl(downloadCode: string): Promise<string> {
    this.downloadCodes.push(downloadCode);
    if (this.downloadFailure !== undefined) throw this.downloadFailure();
    return super.fileDownloadUrl(downloadCode);
  }
}

/** Serves files by download code from the double's links, bounded like the real downloader. */
class FileShelf implements Downloader {
  readonly files = new Map<string, Downloaded>();
  readonly calls: Array<{ code: string; maxBytes: number }> = [];
  failure: Error | undefined;

  add(code: string, bytes: Buffer, contentType?: string): this {
    this.files.set(code, contentType !== undefined ? { bytes, contentType } : { bytes });
    return this;
  }

  async download(url: string, options: { maxBytes: number }): Promise<Downloaded> {
    const code = decodeURIComponent(new URL(url).pathname.slice(1));
    this.calls.push({ code, maxBytes: options.maxBytes });
    if (this.failure !== undefined) throw this.failure;
    const file = this.files.get(code);
    if (file === undefined) throw new DownloadError('http', 'download.example.invalid answered HTTP 404 to the download', { status: 404 });
    if (file.bytes.length > options.maxBytes) throw new DownloadError('too-large', `the file is larger than ${options.maxBytes} bytes`);
    return file;
  }
}

/** A ReplyRun of the 1:1 sample on in-memory deps with the OpenAPI double and the file shelf. */
function setup(options: { withOpenApi?: boolean; configHints?: Set<string> } = {}) {
  const base = replySetup();
  const openApi = new DownloadingOpenApi();
  const shelf = new FileShelf();
  const deps: ReplyDeps = {
    ...base.deps,
    ...(options.withOpenApi === false ? {} : { openApi, downloader: shelf }),
    configHints: options.configHints ?? new Set<string>(),
  };
  const newRun = (): ReplyRun => new ReplyRun(parseReplyTask(base.task('question')), deps);
  return { ...base, deps, openApi, shelf, newRun };
}

/** The question of an accepted input; fails the test with the refusal otherwise. */
function question(result: InputResult): Question {
  if (!result.ok) throw new Error(`the input was refused (${result.reason}): ${result.message}`);
  return result.question;
}

/** The refusal of an input; fails the test when it was accepted. */
function refusal(result: InputResult): { message: string; reason: string } {
  if (result.ok) throw new Error(`the input was accepted: ${result.question.text}`);
  return { message: result.message, reason: result.reason };
}

describe('readInput: quotes', () => {
  it('puts the quoted text in front of the question, each line marked as a quote', async () => {
    const { newRun } = setup();
    const content: ChatContent = { kind: 'text', text: 'what does this mean?', quote: { kind: 'text', text: 'Deploy failed:\nexit code 137', msgId: 'm-1' } };
    expect(question(await readInput(newRun(), content))).toEqual({
      text: '[引用 / Quoted message]\n> Deploy failed:\n> exit code 137\n\nwhat does this mean?',
      pictures: [],
    });
  });

  it('uses the question as the command parser left it, after the quote', async () => {
    const { newRun } = setup();
    const content: ChatContent = { kind: 'text', text: '@bot  what?', quote: { kind: 'text', text: 'hello' } };
    expect(question(await readInput(newRun(), content, 'what?')).text).toBe('[引用 / Quoted message]\n> hello\n\nwhat?');
  });

  it('downloads a quoted picture and names it in front of the question', async () => {
    const { newRun, shelf, openApi } = setup();
    shelf.add('dc-quoted', png(100), 'application/octet-stream');
    const asked = question(await readInput(newRun(), { kind: 'text', text: 'what is in it?', quote: { kind: 'picture', downloadCode: 'dc-quoted' } }));
    expect(asked.text).toBe('[引用 / Quoted message: picture 1]\n\nwhat is in it?');
    expect(asked.pictures).toEqual([{ bytes: png(100), mediaType: 'image/png' }]);
    expect(openApi.downloadCodes).toEqual(['dc-quoted']);
  });

  it('says that an earlier message is quoted when only its id is known', async () => {
    const { newRun, shelf } = setup();
    const asked = question(await readInput(newRun(), { kind: 'text', text: 'and this?', quote: { kind: 'reference', msgId: 'msg-bot-answer', msgType: 'interactiveCard' } }));
    expect(asked.text).toBe('[The user is replying to an earlier message whose text is not available here.]\n\nand this?');
    expect(asked.pictures).toEqual([]);
    expect(shelf.calls).toEqual([]);
  });
});

describe('readInput: quotes of the bot\'s own answers', () => {
  const answer = { id: 'e1', at: 1_000_000, user: 'Q', assistant: 'first line\nsecond line', answeredAt: 1_004_000, replyIds: ['carrier-1'] };

  it('puts the answer found in the loaded history in front of the question, each line marked as a quote', async () => {
    const { newRun } = setup();
    const quote = { kind: 'reference', msgId: 'msgCard==', msgType: 'interactiveCard', processQueryKey: 'carrier-1' } as const;
    const asked = question(await readInput(newRun(), { kind: 'text', text: 'why?', quote }, undefined, { loaded: Promise.resolve([answer]), exclude: 'self' }));
    expect(asked.text).toBe('[引用 / Quoted message: your earlier answer]\n> first line\n> second line\n\nwhy?');
  });

  it('never waits for the history when the quote carries its own text', async () => {
    const { newRun } = setup();
    const never = new Promise<never>(() => undefined);
    const asked = question(await readInput(newRun(), { kind: 'text', text: 'why?', quote: { kind: 'text', text: 'hi' } }, undefined, { loaded: never, exclude: 'self' }));
    expect(asked.text).toBe('[引用 / Quoted message]\n> hi\n\nwhy?');
  });
});

describe('readInput: pictures', () => {
  it('keeps text and pictures in order, each picture a numbered marker, numbers following a quoted picture', async () => {
    const { newRun, shelf } = setup();
    shelf.add('dc-q', jpeg(40)).add('dc-1', png(50)).add('dc-2', jpeg(60));
    const content: ChatContent = {
      kind: 'parts',
      quote: { kind: 'picture', downloadCode: 'dc-q' },
      parts: [
        { kind: 'text', text: 'compare these' },
        { kind: 'picture', downloadCode: 'dc-1' },
        { kind: 'text', text: 'with' },
        { kind: 'picture', downloadCode: 'dc-2' },
      ],
    };
    const asked = question(await readInput(newRun(), content));
    expect(asked.text).toBe('[引用 / Quoted message: picture 1]\n\ncompare these\n[picture 2]\nwith\n[picture 3]');
    expect(asked.pictures).toEqual([
      { bytes: jpeg(40), mediaType: 'image/jpeg' },
      { bytes: png(50), mediaType: 'image/png' },
      { bytes: jpeg(60), mediaType: 'image/jpeg' },
    ]);
    expect(shelf.calls.map((call) => call.code)).toEqual(['dc-q', 'dc-1', 'dc-2']);
  });

  it("types a picture by its bytes, not by the server's content type", async () => {
    const { newRun, shelf } = setup();
    shelf.add('dc-png-as-html', png(80), 'text/html; charset=utf-8');
    const asked = question(await readInput(newRun(), { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'dc-png-as-html' }] }));
    expect(asked.pictures.map((picture) => picture.mediaType)).toEqual(['image/png']);
  });

  it('says the picture cannot be read when its bytes are not a picture, whatever the server said', async () => {
    const { newRun, shelf } = setup();
    shelf.add('dc-html', Buffer.from('<html><body>Access denied</body></html>'), 'image/png');
    expect(refusal(await readInput(newRun(), { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'dc-html' }] }))).toEqual({
      message: INPUT_MESSAGES.notAPicture,
      reason: 'not-a-picture',
    });
  });

  it('takes one picture of exactly the 5 MB limit and asks the downloader for no more than that', async () => {
    const { newRun, shelf } = setup();
    shelf.add('dc-full', png(MAX_PICTURE_BYTES));
    const asked = question(await readInput(newRun(), { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'dc-full' }] }));
    expect(asked.pictures[0]?.bytes.length).toBe(MAX_PICTURE_BYTES);
    expect(shelf.calls).toEqual([{ code: 'dc-full', maxBytes: MAX_PICTURE_BYTES }]);
  });

  it('counts all pictures of a message against one 5 MB budget: a second picture that does not fit what is left is refused', async () => {
    const { newRun, shelf, llm } = setup();
    shelf.add('dc-big', png(4 * MB)).add('dc-second', jpeg(2 * MB));
    const content: ChatContent = {
      kind: 'parts',
      parts: [
        { kind: 'picture', downloadCode: 'dc-big' },
        { kind: 'picture', downloadCode: 'dc-second' },
      ],
    };
    expect(refusal(await readInput(newRun(), content))).toEqual({ message: tooLargeMessage('picture', MAX_PICTURE_BYTES), reason: 'too-large' });
    expect(tooLargeMessage('picture', MAX_PICTURE_BYTES)).toContain('5 MB');
    expect(shelf.calls).toEqual([
      { code: 'dc-big', maxBytes: MAX_PICTURE_BYTES },
      { code: 'dc-second', maxBytes: MAX_PICTURE_BYTES - 4 * MB },
    ]);
    expect(llm.prompts).toEqual([]);
  });

  it('refuses a picture over the limit with the message that names the limit', async () => {
    const { newRun, shelf } = setup();
    shelf.add('dc-huge', png(MAX_PICTURE_BYTES + 1));
    const refused = refusal(await readInput(newRun(), { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'dc-huge' }] }));
    expect(refused).toEqual({ message: tooLargeMessage('picture', MAX_PICTURE_BYTES), reason: 'too-large' });
  });

  it('tells the user the download failed when the file link cannot be fetched, and logs why', async () => {
    const { newRun, shelf, logs } = setup();
    shelf.failure = new DownloadError('network', 'download.example.invalid could not be reached for the download: ECONNRESET');
    expect(refusal(await readInput(newRun(), { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'dc-1' }] }))).toEqual({
      message: INPUT_MESSAGES.downloadFailed,
      reason: 'download-failed',
    });
    expect(logs.find('reply.download_failed')).toMatchObject({ what: 'picture', error: { reason: 'network' } });
    expect(logs.find('reply.misconfigured_channel')).toBeUndefined();
  });

  it('answers an OpenAPI permission refusal with the download message, and logs the configuration hint once per instance', async () => {
    const { newRun, openApi, logs, shelf } = setup();
    openApi.downloadFailure = () => dingTalkFailures.permission('/v1.0/robot/messageFiles/download', 'qyapi_robot_sendmsg');
    const content: ChatContent = { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'dc-1' }] };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect(refusal(await readInput(newRun(), content))).toEqual({ message: INPUT_MESSAGES.downloadFailed, reason: 'download-failed' });
    }
    const hints = logs.events().filter((line) => line.event === 'reply.misconfigured_channel');
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatchObject({ level: 'error', channel: 'download' });
    expect(String(hints[0]?.fix)).toContain('qyapi_robot_sendmsg');
    expect(logs.events().filter((line) => line.event === 'reply.download_failed')).toHaveLength(2);
    expect(shelf.calls).toEqual([]);
  });

  it('says pictures and files need the Client ID when there is no OpenAPI', async () => {
    const { newRun } = setup({ withOpenApi: false });
    expect(refusal(await readInput(newRun(), { kind: 'parts', parts: [{ kind: 'picture', downloadCode: 'dc-1' }] })).message).toBe(INPUT_MESSAGES.picturesNeedClientId);
    expect(refusal(await readInput(newRun(), { kind: 'file', downloadCode: 'dc-f', fileName: 'notes.txt' })).message).toBe(INPUT_MESSAGES.filesNeedClientId);
  });
});

/** The question of a text file `fileName` with `bytes`. */
async function readFile(fileName: string, bytes: Buffer): Promise<{ result: InputResult; shelf: FileShelf; run: ReplyRun }> {
  const { newRun, shelf } = setup();
  shelf.add('dc-file', bytes, 'application/octet-stream');
  const run = newRun();
  return { result: await readInput(run, { kind: 'file', downloadCode: 'dc-file', fileName }), shelf, run };
}

/** The fenced body of a file question: [File: name], the fence with the extension, the text, the fence, the rest. */
function fenced(text: string): { header: string; fence: string; body: string; after: string } {
  const match = /^(\[File: [^\n]*\])\n(`{3,})[^\n`]*\n([\s\S]*)\n\2\n?([\s\S]*)$/.exec(text);
  if (match === null) throw new Error(`not a fenced file question: ${text.slice(0, 200)}`);
  return { header: match[1] ?? '', fence: match[2] ?? '', body: match[3] ?? '', after: match[4] ?? '' };
}

describe('readInput: text files', () => {
  it('puts a text file into the question fenced, with its name and type, and asks to look at it', async () => {
    const { result } = await readFile('main.py', Buffer.from('print("你好")\n'));
    expect(question(result)).toEqual({ text: '[File: main.py]\n```py\nprint("你好")\n\n```\n\nPlease look at this file.', pictures: [] });
  });

  it.each<[string]>([['notes.txt'], ['README.MD'], ['data.csv'], ['config.yaml'], ['Dockerfile'], ['app.test.ts'], ['query.SQL']])(
    'reads %s as text',
    async (fileName) => {
      const { result } = await readFile(fileName, Buffer.from('hello'));
      expect(fenced(question(result).text).body).toBe('hello');
    },
  );

  it.each<[string]>([['report.pdf'], ['sheet.xlsx'], ['slides.pptx'], ['archive.tar.gz'], ['photo.png'], ['Makefile'], ['notes.txt.exe']])(
    'refuses %s by its extension with the list of what is read, without downloading it',
    async (fileName) => {
      const { result, shelf } = await readFile(fileName, Buffer.from('hello'));
      expect(refusal(result)).toEqual({ message: unsupportedFileMessage(fileName, TEXT_FILE_EXTENSIONS), reason: 'file-type' });
      expect(refusal(result).message).toContain('.txt');
      expect(shelf.calls).toEqual([]);
    },
  );

  it('refuses a file with a .txt name whose bytes hold a NUL (a binary file)', async () => {
    const { result } = await readFile('dump.txt', Buffer.from([0x68, 0x69, 0x00, 0x01, 0x02]));
    expect(refusal(result)).toEqual({ message: unsupportedFileMessage('dump.txt', TEXT_FILE_EXTENSIONS), reason: 'binary-file' });
  });

  it.each<[string, Buffer]>([
    ['a lone continuation byte', Buffer.from([0x61, 0x80, 0x62])],
    ['GBK-encoded Chinese', Buffer.from([0xc4, 0xe3, 0xba, 0xc3])],
    ['a sequence cut at the end of the file', Buffer.from([0x61, 0xe4, 0xbd])],
  ])('refuses a text file that is not UTF-8 (%s)', async (_name, bytes) => {
    const { result } = await readFile('notes.txt', bytes);
    expect(refusal(result)).toEqual({ message: unsupportedFileMessage('notes.txt', TEXT_FILE_EXTENSIONS), reason: 'not-utf8' });
  });

  it('asks the downloader for at most 1 MB and refuses a larger file with the file limit', async () => {
    const { result, shelf } = await readFile('big.log', Buffer.alloc(MAX_FILE_DOWNLOAD_BYTES + 1, 0x61));
    expect(refusal(result)).toEqual({ message: tooLargeMessage('file', MAX_FILE_DOWNLOAD_BYTES), reason: 'too-large' });
    expect(shelf.calls).toEqual([{ code: 'dc-file', maxBytes: MAX_FILE_DOWNLOAD_BYTES }]);
  });

  it('shows a file of exactly 64 KB whole, with no note', async () => {
    const text = 'x'.repeat(MAX_FILE_PROMPT_BYTES);
    const { result } = await readFile('exact.txt', Buffer.from(text));
    const parts = fenced(question(result).text);
    expect(parts.body).toBe(text);
    expect(parts.after).toBe('\nPlease look at this file.');
  });

  it('cuts a file over 64 KB on a character boundary and says how much of it is shown', async () => {
    // 3-byte characters: byte 65,536 falls inside the 21,846th, so 21,845 whole characters fit.
    const text = '汉'.repeat(30_000);
    const bytes = Buffer.from(text);
    const { result, run } = await readFile('chinese.md', bytes);
    const parts = fenced(question(result).text);
    expect(parts.body).toBe('汉'.repeat(Math.floor(MAX_FILE_PROMPT_BYTES / 3)));
    expect(parts.body).not.toContain('\uFFFD');
    expect(parts.after).toBe(`[The file was cut: the first ${MAX_FILE_PROMPT_BYTES} of its ${bytes.length} bytes are shown.]\n\nPlease look at this file.`);
    expect(run.report.fields).toMatchObject({ fileCut: true, fileBytes: Buffer.byteLength(parts.body) });
  });

  it("keeps a real U+FFFD of the file's text that ends right at the cut", async () => {
    const text = `${'a'.repeat(MAX_FILE_PROMPT_BYTES - 3)}\uFFFD${'b'.repeat(100)}`;
    const { result } = await readFile('replacement.txt', Buffer.from(text));
    const body = fenced(question(result).text).body;
    expect({ length: body.length, tail: body.slice(-2) }).toEqual({ length: MAX_FILE_PROMPT_BYTES - 2, tail: 'a\uFFFD' });
  });

  it('fences the file with more backticks than any run of backticks in it, so the file cannot close the fence', async () => {
    const text = 'Example:\n```js\nconsole.log(1)\n```\nand a longer one: `````\nend';
    const { result } = await readFile('guide.md', Buffer.from(text));
    const parts = fenced(question(result).text);
    expect(parts.body).toBe(text);
    expect(parts.fence).toBe('``````');
    const longestRun = Math.max(...(text.match(/`+/g) ?? []).map((run) => run.length));
    expect(parts.fence.length).toBeGreaterThan(longestRun);
  });
});
