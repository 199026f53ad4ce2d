/**
 * What the reply core does with odd input that passed the door: messages that are not text, messages
 * that are empty once the @mention is gone, and session webhooks that point anywhere but DingTalk.
 */
import type { Socket } from 'node:net';
import { createAxiosWebhookSender } from '../../../../shared/adapters/axios-webhook';
import { HELP_TEXT } from '../../../../shared/core/commands';
import { handleReply, type ReplyDeps } from '../../../../shared/core/reply/handle-reply';
import { encodeReplyTask, toReplyTask, type ReplyTask } from '../../../../shared/core/reply-task';
import { INPUT_MESSAGES } from '../../../../shared/core/reply/input-messages';
import { USER_MESSAGES } from '../../../../shared/core/user-messages';
import { parseIncomingMessage } from '../../../../shared/dingtalk/message';
import type { WebhookSender } from '../../../../shared/ports';
import { listenOnLoopback, readBody, sendJson, type LoopbackServer } from '../../../fakes/http-helpers';
import { dingtalkSample } from '../../../helpers/fixtures';
import { guarantee } from '../../../helpers/guarantee';
import { replySetup } from '../../../helpers/reply-deps';

/**
 * The reply core on in-memory ports (the shared `replySetup`), optionally with another webhook sender and
 * allowlist, plus a builder of the task the conversation function would send for a whole DingTalk body.
 */
function replyDeps(options: { webhook?: WebhookSender; webhookHosts?: readonly string[] } = {}) {
  const setup = replySetup({ settings: { webhookHosts: options.webhookHosts ?? ['oapi.dingtalk.com'] } });
  const deps: ReplyDeps = options.webhook === undefined ? setup.deps : { ...setup.deps, webhook: options.webhook };
  /** The task for `body` (a DingTalk callback), with `overrides`. */
  const task = (body: Record<string, unknown>, overrides: Partial<ReplyTask> = {}): string =>
    encodeReplyTask({ ...toReplyTask(parseIncomingMessage(body), setup.clock.now()), ...overrides });
  /** The exchanges saved for the sender of the 1:1 samples. */
  const saved = () => deps.history.loadRecent({ conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', userId: 'manager1234' }, 10);
  return { ...setup, deps, task, saved };
}

/** A DingTalk sample with `changes` applied; a field set to `undefined` reads as absent. */
const sample = (name: string, changes: Record<string, unknown> = {}): Record<string, unknown> => ({ ...dingtalkSample(name), ...changes });

describe(guarantee('Non-text messages'), () => {
  it('reads a voice message through DingTalk\'s speech recognition and answers it like text', async () => {
    const { deps, task, llm, webhook, saved } = replyDeps();
    llm.answer('好的，明天上午十点提醒你。');
    expect(await handleReply(task(sample('audio')), deps)).toBe('answered');
    expect(llm.prompts).toEqual([[{ role: 'user', content: '明天上午十点提醒我开会' }]]);
    expect(webhook.texts()).toEqual(['好的，明天上午十点提醒你。']);
    expect((await saved()).map((exchange) => exchange.user)).toEqual(['明天上午十点提醒我开会']);
  });

  it.each<[string, string, Record<string, unknown>, string]>([
    ['a picture, without DINGTALK_CLIENT_ID,', 'picture', {}, INPUT_MESSAGES.picturesNeedClientId],
    ['a rich-text message with a picture, without DINGTALK_CLIENT_ID,', 'rich-text', {}, INPUT_MESSAGES.picturesNeedClientId],
    [
      'a rich-text message with only pictures, without DINGTALK_CLIENT_ID,',
      'rich-text',
      { content: { richText: [{ type: 'picture', downloadCode: 'dc-1' }, { text: ' ' }] } },
      INPUT_MESSAGES.picturesNeedClientId,
    ],
    ['a file, without DINGTALK_CLIENT_ID,', 'picture', { msgtype: 'file', content: { downloadCode: 'dc-file', fileName: 'notes.txt' } }, INPUT_MESSAGES.filesNeedClientId],
    ['a video', 'picture', { msgtype: 'video', content: { downloadCode: 'dc-video', duration: 12, videoType: 'mp4' } }, USER_MESSAGES.unsupported],
    ['a voice message without recognition', 'audio', { content: { duration: 3000, downloadCode: 'dc-audio' } }, INPUT_MESSAGES.voiceUnrecognized],
    ['a voice message whose recognition is blank', 'audio', { content: { duration: 3000, downloadCode: 'dc-audio', recognition: '  ' } }, INPUT_MESSAGES.voiceUnrecognized],
    ['an unknown msgtype', 'picture', { msgtype: 'interactiveCard', content: { cardData: '{}' } }, USER_MESSAGES.unsupported],
  ])('answers %s with one short message saying why, asks the LLM nothing and saves nothing', async (_name, base, changes, expected) => {
    const { deps, task, llm, webhook, saved } = replyDeps();
    expect(await handleReply(task(sample(base, changes)), deps)).toBe('unsupported');
    expect(webhook.texts()).toEqual([expected]);
    expect(llm.prompts).toHaveLength(0);
    expect(await saved()).toEqual([]);
  });

  it('@-mentions the sender of a picture in a group', async () => {
    const { deps, task, webhook } = replyDeps();
    const body = sample('text-group-mention', { msgtype: 'picture', text: undefined, content: { downloadCode: 'dc' } });
    expect(await handleReply(task(body), deps)).toBe('unsupported');
    expect(webhook.sent[0]?.message).toMatchObject({ at: { atUserIds: ['user5678'] } });
    expect(webhook.texts()[0]).toContain(INPUT_MESSAGES.picturesNeedClientId);
  });

  it.each<[string, string, string]>([
    ['a group message of one space', 'text-group-mention', ' '],
    ['a group message of ideographic spaces', 'text-group-mention', '\u3000\u3000'],
    ['an empty 1:1 message', 'text-1to1', ''],
    ['a 1:1 message of newlines', 'text-1to1', '\n\n'],
  ])('answers %s with the help text and asks the LLM nothing', async (_name, base, content) => {
    const { deps, task, llm, webhook } = replyDeps();
    expect(await handleReply(task(sample(base, { text: { content } })), deps)).toBe('help');
    expect(webhook.texts()).toHaveLength(1);
    expect(webhook.texts()[0]).toContain(HELP_TEXT);
    expect(llm.prompts).toHaveLength(0);
  });

  it.each<[string, string]>([
    ['a group message of typed @words', ' @钉钉助手  @bot\u3000'],
    ['a group message of one typed @word', '@bot '],
  ])('sends %s to the LLM as the user typed it: DingTalk already removed the real mention', async (_name, content) => {
    const { deps, task, llm } = replyDeps();
    expect(await handleReply(task(sample('text-group-mention', { text: { content } })), deps)).toBe('answered');
    expect(llm.prompts[0]?.at(-1)).toEqual({ role: 'user', content: content.trim() });
  });
});

/**
 * A loopback server that is both a session webhook (for allowed loopback URLs) and the HTTP(S) proxy
 * of every request the test process makes (through HTTP_PROXY/HTTPS_PROXY, which axios honours). So a
 * webhook post to any host at all, DNS or not, would reach it: it counts TCP connections, and refuses
 * tunnels (CONNECT) so that nothing ever leaves the machine.
 */
interface CatchAll {
  server: LoopbackServer;
  connections: number;
  /** What arrived: `CONNECT host:port` or `METHOD url`. */
  arrivals: string[];
}

async function startCatchAll(): Promise<CatchAll> {
  const state = { connections: 0, arrivals: [] as string[] };
  const server = await listenOnLoopback(async (req, res) => {
    state.arrivals.push(`${req.method ?? ''} ${req.url ?? ''}`);
    await readBody(req);
    const url = new URL(req.url ?? '/', 'http://catch-all.invalid');
    if (url.pathname === '/redirect') {
      res.writeHead(307, { location: url.searchParams.get('to') ?? '/' }).end();
      return;
    }
    sendJson(res, 200, { errcode: 0, errmsg: 'ok' });
  });
  server.server.on('connection', () => {
    state.connections += 1;
  });
  server.server.on('connect', (req: { url?: string }, socket: Socket) => {
    state.arrivals.push(`CONNECT ${req.url ?? ''}`);
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  return Object.assign(state, { server });
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'] as const;

describe(guarantee('Session webhook allowlist'), () => {
  let catchAll: CatchAll;
  const savedProxyEnv: Partial<Record<(typeof PROXY_VARIABLES)[number], string>> = {};

  beforeAll(async () => {
    catchAll = await startCatchAll();
    for (const name of PROXY_VARIABLES) {
      savedProxyEnv[name] = process.env[name];
      process.env[name] = name.toLowerCase() === 'no_proxy' ? '' : catchAll.server.url;
    }
  });

  afterAll(async () => {
    for (const name of PROXY_VARIABLES) {
      if (savedProxyEnv[name] === undefined) delete process.env[name];
      else process.env[name] = savedProxyEnv[name];
    }
    await catchAll.server.close();
  });

  /** The reply core with the real axios sender, and DingTalk's production allowlist unless told otherwise. */
  const realSender = (webhookHosts: readonly string[] = ['oapi.dingtalk.com']) =>
    replyDeps({ webhook: createAxiosWebhookSender({ timeoutMs: 1000, attempts: 1 }), webhookHosts });

  /** Runs a signed 1:1 text message whose sessionWebhook is `url`; answers how many connections it caused. */
  async function replyTo(url: string, webhookHosts?: readonly string[]) {
    const setup = realSender(webhookHosts);
    const before = catchAll.connections;
    const outcome = await handleReply(setup.task(sample('text-1to1'), { sessionWebhook: url }), setup.deps);
    // A connection is counted when accepted; give a stray one a moment to show up.
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { ...setup, outcome, connections: catchAll.connections - before };
  }

  it('the harness sees a post to an allowed host, whatever the case of its name (the control)', async () => {
    // A reserved name (RFC 2606) in the allowlist: were the proxy ever ignored, DNS fails and nothing leaves.
    for (const url of ['https://BOT.EXAMPLE/robot/sendBySession?session=s1', 'https://Bot.Example:443/robot/sendBySession?session=s2']) {
      const { connections, llm } = await replyTo(url, ['bot.example']);
      expect(connections).toBe(1);
      expect(llm.prompts).toHaveLength(1);
    }
    expect(catchAll.arrivals.filter((line) => line === 'CONNECT bot.example:443')).toHaveLength(2);
  });

  it('the harness sees a post to an allowed loopback webhook, which answers (the control)', async () => {
    const url = `${catchAll.server.url}/robot/sendBySession?session=loop`;
    const { connections, outcome } = await replyTo(url, ['127.0.0.1']);
    expect(outcome).toBe('answered');
    expect(connections).toBe(1);
  });

  const port = (): string => String(catchAll.server.port);
  it.each<[string, () => string]>([
    ['another host', () => 'https://evil.example/robot/sendBySession?session=s'],
    ['a public IPv4 address', () => 'https://203.0.113.7/robot/sendBySession?session=s'],
    ['an IPv6 address', () => 'https://[2001:db8::1]/robot/sendBySession?session=s'],
    ['this machine by IP', () => `http://127.0.0.1:${port()}/robot/sendBySession?session=s`],
    ['this machine by name', () => `https://localhost:${port()}/robot/sendBySession?session=s`],
    ['this machine as a decimal number', () => `https://2130706433:${port()}/robot/sendBySession?session=s`],
    ['the cloud metadata address', () => 'http://100.100.100.200/latest/meta-data/'],
    ['plain http to the allowed host', () => 'http://oapi.dingtalk.com/robot/sendBySession?session=s'],
    ['ws to the allowed host', () => 'ws://oapi.dingtalk.com/robot/sendBySession?session=s'],
    ['ftp to the allowed host', () => 'ftp://oapi.dingtalk.com/robot/sendBySession'],
    ['a file URL', () => 'file:///etc/passwd'],
    ['a data URL', () => 'data:application/json,{}'],
    ['a non-default https port', () => 'https://oapi.dingtalk.com:8443/robot/sendBySession?session=s'],
    ['port 80 over https', () => 'https://oapi.dingtalk.com:80/robot/sendBySession?session=s'],
    ['the allowed host as userinfo', () => 'https://oapi.dingtalk.com@evil.example/robot/sendBySession?session=s'],
    ['the allowed host and port as userinfo', () => 'https://oapi.dingtalk.com:443@evil.example/robot/sendBySession?session=s'],
    ['the allowed host as userinfo in front of this machine', () => `http://oapi.dingtalk.com@127.0.0.1:${port()}/robot/sendBySession?session=s`],
    ['userinfo in front of the allowed host', () => 'https://evil.example@oapi.dingtalk.com/robot/sendBySession?session=s'],
    ['a backslash before the userinfo', () => 'https://evil.example\\@oapi.dingtalk.com/robot/sendBySession?session=s'],
    ['the allowed host in the query', () => 'https://evil.example/?x=oapi.dingtalk.com'],
    ['the allowed host in the path', () => 'https://evil.example/oapi.dingtalk.com/robot/sendBySession?session=s'],
    ['the allowed host as a subdomain of another', () => 'https://oapi.dingtalk.com.evil.example/robot/sendBySession?session=s'],
    ['the allowed host upper-cased as a subdomain of another', () => 'HTTPS://OAPI.DINGTALK.COM.EVIL.EXAMPLE/robot/sendBySession?session=s'],
    ['a subdomain of the allowed host', () => 'https://x.oapi.dingtalk.com/robot/sendBySession?session=s'],
    ['the parent domain of the allowed host', () => 'https://dingtalk.com/robot/sendBySession?session=s'],
    ['a look-alike with a capital I', () => 'https://oapi.dingtaIk.com/robot/sendBySession?session=s'],
    ['a look-alike with a Cyrillic o', () => 'https://\u043eapi.dingtalk.com/robot/sendBySession?session=s'],
    ['the allowed host with a trailing dot', () => 'https://oapi.dingtalk.com./robot/sendBySession?session=s'],
    ['no host at all', () => 'https:///robot/sendBySession?session=s'],
    ['something that is not a URL', () => 'oapi.dingtalk.com/robot/sendBySession?session=s'],
  ])('sends nothing anywhere, and asks the LLM nothing, for a webhook on %s', async (_name, url) => {
    const { outcome, connections, llm, saved, logs } = await replyTo(url());
    expect(outcome).toBe('destination_refused');
    expect(connections).toBe(0);
    expect(llm.prompts).toHaveLength(0);
    expect(await saved()).toEqual([]);
    expect(logs.find('reply.webhook_refused')).toBeDefined();
  });

  it('never follows a redirect from an allowed webhook to another place', async () => {
    const elsewhere = 'http://localhost:1/robot/sendBySession?session=stolen';
    const url = `${catchAll.server.url}/redirect?to=${encodeURIComponent(elsewhere)}`;
    const before = catchAll.arrivals.length;
    const { outcome, connections } = await replyTo(url, ['127.0.0.1']);
    expect(outcome).toBe('delivery_failed');
    expect(connections).toBe(1);
    expect(catchAll.arrivals.slice(before)).toEqual([expect.stringContaining('/redirect?to=')]);
  });

  it('checks the webhook the conversation function accepted: a forged body signed correctly still gets no request', async () => {
    // The signature covers only the timestamp, so the conversation function accepts any http(s) URL here.
    const forged = sample('text-1to1', { sessionWebhook: 'https://oapi.dingtalk.com@evil.example/robot/sendBySession?session=s' });
    const setup = realSender();
    const before = catchAll.connections;
    expect(await handleReply(setup.task(forged), setup.deps)).toBe('destination_refused');
    expect(catchAll.connections - before).toBe(0);
    expect(setup.llm.prompts).toHaveLength(0);
  });
});
