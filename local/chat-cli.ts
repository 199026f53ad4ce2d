/**
 * `npm run chat`: DingTalk in the terminal. Interactive with a prompt and line history, or piped: one
 * message per line, each answer printed before the next line is sent, exit 0 at the end of input.
 */
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { preview } from '../shared/config/load-config';
import { ChatError, startChatClient } from './chat-client';
import { applyLocalEnvFiles } from './env-file';
import { findLocalSecret } from './local-secret';
import { localSetting } from './local-variables';
import { renderMarkdown } from './render-markdown';
import { robotMessageText } from './robot-message';

/** What the chat runs with; `main` fills it from the process. */
export interface ChatCliOptions {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  input: Readable;
  output: Writable;
  errors: Writable;
  /** Whether input and output are a terminal: a prompt, line editing, colors. */
  interactive: boolean;
  color: boolean;
}

const USAGE = `Usage: npm run chat [-- --group] [-- --user ID] [-- --url URL] [-- --timeout SECONDS]
  --group          send group messages that @ the robot (default: one-to-one)
  --user ID        chat as this user (default local-user); each user has their own history
  --url URL        the bot's message receiving URL (default http://127.0.0.1:$PORT/)
  --timeout S      how long to wait for each answer (default 120)
Type a message and press Enter; \\clear forgets your history, \\help lists the commands.
Piped input sends one message per line.
`;

const BOT = 'bot › ';
const YOU = 'you › ';

/** Indents every line after the first under the `bot › ` label (blank lines stay empty). */
const labelled = (label: string, text: string): string =>
  `${text
    .split('\n')
    .map((line, index) => (index === 0 ? `${label}${line}` : line === '' ? '' : `${' '.repeat(label.length)}${line}`))
    .join('\n')}\n`;

/** Runs the chat; resolves with the exit code. */
export async function runChat(options: ChatCliOptions): Promise<number> {
  const { env, output, errors } = options;
  let args;
  try {
    args = parseArgs({
      args: [...options.argv],
      options: { group: { type: 'boolean' }, user: { type: 'string' }, url: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
    }).values;
  } catch (error) {
    errors.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    output.write(USAGE);
    return 0;
  }
  applyLocalEnvFiles(env);
  const timeoutSeconds = Number(args.timeout ?? '120');
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    errors.write(`--timeout must be a number of seconds (got ${preview(args.timeout ?? '')})\n`);
    return 2;
  }
  const dataDir = path.resolve(localSetting(env, 'LOCAL_DATA_DIR'));
  const secret = findLocalSecret(env, dataDir);
  if (secret === undefined) {
    errors.write(`No app secret to sign with: start the bot first (npm start saves one in ${path.join(dataDir, 'local-secret')}), or set DINGTALK_APP_SECRET.\n`);
    return 1;
  }
  const host = localSetting(env, 'HOST');
  const url = args.url ?? `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${localSetting(env, 'PORT')}/`;
  const render = (body: unknown): string => renderMarkdown(robotMessageText(body), { color: options.color });
  const client = await startChatClient({
    url,
    secret: secret.value,
    secretSource: secret.source === 'environment' ? 'from DINGTALK_APP_SECRET' : `from ${path.relative(process.cwd(), secret.file ?? '')}`,
    user: args.user ?? 'local-user',
    group: args.group === true,
    timeoutMs: timeoutSeconds * 1000,
    onLateMessage: (body) => output.write(labelled(BOT, render(body))),
    onInvalidMessage: (reason) => errors.write(`The bot sent a message DingTalk would refuse: ${reason}\n`),
  });

  const lines = createInterface({ input: options.input, output: options.interactive ? output : undefined, terminal: options.interactive, historySize: 100 });
  lines.setPrompt(YOU);
  if (options.interactive) {
    output.write(`Chatting with ${url} as ${args.user ?? 'local-user'}${args.group ? ' in a group' : ''}. Ctrl-D to quit.\n`);
    lines.prompt();
  }
  let code = 0;
  try {
    for await (const line of lines) {
      const text = line.trim();
      if (text !== '') {
        if (!options.interactive) output.write(`${YOU}${text}\n`);
        try {
          for (const body of await client.send(text)) output.write(labelled(BOT, render(body)));
        } catch (error) {
          if (!(error instanceof ChatError)) throw error;
          errors.write(`${error.message}\n`);
          // Piped input stops at the first failure: the next lines would fail the same way.
          if (!options.interactive) {
            code = 1;
            break;
          }
        }
      }
      if (options.interactive) lines.prompt();
    }
  } finally {
    lines.close();
    await client.close();
  }
  if (options.interactive) output.write('\n');
  return code;
}

/** `npm run chat`. */
export async function main(): Promise<void> {
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  process.exitCode = await runChat({
    argv: process.argv.slice(2),
    env: process.env,
    input: process.stdin,
    output: process.stdout,
    errors: process.stderr,
    interactive,
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
  });
}
