import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseIncomingMessage } from '../../shared/dingtalk/message';
import { verifySignature } from '../../shared/dingtalk/signature';
import { checkWebhookUrl } from '../../shared/dingtalk/webhook-url';
import { dingtalkHeaders, dingtalkTextMessage } from '../../local/dingtalk-payload';
import { applyEnvFile } from '../../local/env-file';
import { localEnvironment, useOfflineLlm } from '../../local/local-env';
import { renderMarkdown } from '../../local/render-markdown';
import { dingtalkSample } from '../helpers/fixtures';

const runtime = { appSecret: 's', fcEndpoint: 'http://127.0.0.1:1', accessKey: { accessKeyId: 'id', accessKeySecret: 'secret' }, dataDir: '/data' };

describe('local mode defaults', () => {
  it('uses the offline responder without a key or when forced', () => {
    expect(useOfflineLlm({})).toBe(true);
    expect(useOfflineLlm({ OPENAI_API_KEY: 'sk-x' })).toBe(false);
    expect(useOfflineLlm({ OPENAI_API_KEY: 'sk-x', FORCE_MOCK_OPENAI: '1' })).toBe(true);
  });

  it('keeps history in the data folder unless a store is configured, and adds only 127.0.0.1 to the webhook hosts', () => {
    expect(localEnvironment({}, runtime)).toMatchObject({ HISTORY_DIR: path.join('/data', 'history'), DINGTALK_WEBHOOK_HOSTS: 'oapi.dingtalk.com,127.0.0.1', REPLY_FUNCTION_NAME: 'dingtalk-llm-reply' });
    expect(localEnvironment({ OSS_BUCKET: 'b' }, runtime).HISTORY_DIR).toBeUndefined();
    expect(localEnvironment({ DINGTALK_WEBHOOK_HOSTS: 'a.dingtalk.com,127.0.0.1' }, runtime).DINGTALK_WEBHOOK_HOSTS).toBe('a.dingtalk.com,127.0.0.1');
  });

  it("lets the chat client's loopback webhook through only because local mode lists 127.0.0.1", () => {
    const url = 'http://127.0.0.1:4567/robot/sendBySession?session=x';
    expect(checkWebhookUrl(url, ['oapi.dingtalk.com'])).toBe('host');
    expect(checkWebhookUrl(url, (localEnvironment({}, runtime).DINGTALK_WEBHOOK_HOSTS ?? '').split(','))).toBeUndefined();
  });
});

describe('.env files', () => {
  it('fill in what the shell left unset, and never override it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'env-file-'));
    try {
      writeFileSync(path.join(dir, '.env'), '# comment\nA=from-file\nB="quoted value"\nC=file\n');
      const env: Record<string, string | undefined> = { C: 'shell', A: '' };
      expect(applyEnvFile(env, path.join(dir, '.env')).sort()).toEqual(['A', 'B']);
      expect(env).toEqual({ A: 'from-file', B: 'quoted value', C: 'shell' });
      expect(applyEnvFile(env, path.join(dir, 'missing'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the DingTalk payload of the terminal chat', () => {
  const base = { text: 'hi', user: 'u1', sessionWebhook: 'http://127.0.0.1:1/robot/sendBySession?session=s', now: 1_700_000_000_000 };

  it.each([
    ['text-1to1', false],
    ['text-group-mention', true],
  ])('has exactly the fields of the reference sample %s', (sample, group) => {
    const payload = dingtalkTextMessage({ ...base, group });
    expect(Object.keys(payload).sort()).toEqual(Object.keys(dingtalkSample(sample)).sort());
    expect(parseIncomingMessage(payload)).toMatchObject({ conversationType: group ? '2' : '1', senderStaffId: 'u1', content: { kind: 'text', text: group ? ' hi' : 'hi' } });
  });

  it('is signed as DingTalk signs', () => {
    const headers = dingtalkHeaders('the-secret', 1_700_000_000_000);
    expect(() => verifySignature({ timestamp: headers.timestamp ?? '', sign: headers.sign ?? '', secret: 'the-secret', now: 1_700_000_000_000 })).not.toThrow();
  });
});

describe('markdown in the terminal', () => {
  it('renders headings, emphasis, lists, quotes, links and code readably without escape codes when colour is off', () => {
    const text = '# Title\n**bold** and *it* and `code`\n- one\n> quoted\n[site](https://x.test)\n```js\nlet a = 1;\n```';
    expect(renderMarkdown(text, { color: false })).toBe('Title\nbold and it and code\n• one\n│ quoted\nsite <https://x.test>\n    let a = 1;');
  });

  it('uses bold and colour on a terminal', () => {
    expect(renderMarkdown('**b**', { color: true })).toBe('\u001b[1mb\u001b[22m');
  });
});
