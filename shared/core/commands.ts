/**
 * What a user's text asks for. The text arrives with the robot's own mention already removed (by
 * DingTalk, or by `parseIncomingMessage`): nothing here strips `@words`, which are the user's.
 */
export type Command =
  | { kind: 'chat'; text: string }
  | { kind: 'clear' }
  | { kind: 'help' }
  /** `\memory`: what the bot remembers about the user. */
  | { kind: 'memory' }
  /** `\forget N` or `\forget all`; `which` is undefined when the argument is missing or not understood. */
  | { kind: 'forget'; which?: number | 'all' }
  /** `\usage`: the person's questions and tokens today and this month. */
  | { kind: 'usage' }
  /** `\model` (show the model and the choices) or `\model NAME` (switch this conversation). */
  | { kind: 'model'; name?: string }
  /** `\system` (show), `\system TEXT` (set this conversation's prompt) or `\system reset`. */
  | { kind: 'system'; text?: string; reset?: true }
  /** A prefix and one ASCII word the bot does not know, alone (`/foo`): answered with the help text, never sent to the LLM. */
  | { kind: 'unknown'; name: string }
  /** Nothing but spaces and invisible characters: answered with the help text. */
  | { kind: 'empty' };

/** The commands the bot answers itself, without the LLM. */
export type KnownCommand = Exclude<Command, { kind: 'chat' | 'unknown' | 'empty' }>;

/**
 * Every name each command answers to, in lower case and NFKC form: the one table to extend when a
 * command is added (add its variant to `Command`, its names here and its line in `COMMAND_HELP`).
 * The first name is the one the help text shows first.
 */
export const COMMAND_NAMES: Readonly<Record<KnownCommand['kind'], readonly string[]>> = {
  clear: ['clear', 'reset', '清除', '重置', '清空'],
  memory: ['memory', 'memories', '记忆'],
  forget: ['forget', '忘记', '忘掉'],
  usage: ['usage', '用量'],
  model: ['model', '模型'],
  system: ['system', '系统提示', '设定'],
  help: ['help', '帮助'],
};

/** What each command does, for the help text: Chinese, then English. */
const COMMAND_HELP: Readonly<Record<KnownCommand['kind'], { zh: string; en: string }>> = {
  clear: { zh: '清除我们的对话记录（长期记忆保留）', en: 'forget our conversation so far (long-term memory stays)' },
  memory: { zh: '查看我长期记住的关于你的信息', en: 'show what I remember about you' },
  forget: { zh: '加编号删除一条记忆（如 `\\forget 2`），加 all 全部删除', en: 'with a number, remove one memory (`\\forget 2`); with `all`, all of them' },
  usage: { zh: '查看你今天和本月的提问次数与 tokens 用量', en: 'show your questions and tokens today and this month' },
  model: { zh: '查看当前模型；加模型名切换本会话的模型（群里仅管理员）', en: "show the model; with a name, switch this conversation's model (in groups, admins only)" },
  system: {
    zh: '查看本会话的系统提示；加文字设置，加 reset 清除（群里仅管理员）',
    en: "show this conversation's system prompt; with text, set it; with `reset`, remove it (in groups, admins only)",
  },
  help: { zh: '显示这份说明', en: 'show this list' },
};

/** Words after `\system` that remove the conversation's prompt. */
const SYSTEM_RESET: readonly string[] = ['reset', 'clear', 'off', '清除', '重置', '删除'];

/**
 * What follows the command name in the text as the user typed it (case and width kept: a model name or
 * a system prompt is the user's text). The prefix and the name are one character each per character of
 * the matched form, so the same count of characters is skipped.
 */
function argumentAsTyped(text: string, name: string): string {
  const typed = Array.from(text.replace(INVISIBLE, '').trim());
  return typed.slice(1 + Array.from(name).length).join('').trim();
}

/** Words after `\forget` that mean every memory. */
const FORGET_ALL: readonly string[] = ['all', '全部', '所有', '全部记忆'];

/** The argument of `\forget`: a 1-based number, `all`, or undefined. */
function forgetArgument(rest: string): number | 'all' | undefined {
  const argument = rest.trim().replace(/[\p{P}\p{S}]+$/u, '');
  if (/^[1-9]\d{0,3}$/.test(argument)) return Number(argument);
  return FORGET_ALL.includes(argument) ? 'all' : undefined;
}

/**
 * The characters a command starts with, after NFKC: `\`, `/`, and `、`, which the `\` key types with a
 * Chinese input method. NFKC has already turned the full-width `＼` and `／` (and `﹨`) into `\` and `/`.
 */
export const COMMAND_PREFIXES: readonly string[] = ['\\', '/', '、'];

const KIND_OF_NAME: ReadonlyMap<string, KnownCommand['kind']> = new Map(
  (Object.entries(COMMAND_NAMES) as Array<[KnownCommand['kind'], readonly string[]]>).flatMap(([kind, names]) =>
    names.map((name) => [name, kind] as const),
  ),
);

const backslash = (name: string): string => `\`\\${name}\``;

/** The text users see for `\help`, unknown commands and empty messages: Chinese first, then English. */
export const HELP_TEXT = (() => {
  const entries = Object.entries(COMMAND_NAMES) as Array<[KnownCommand['kind'], readonly string[]]>;
  return [
    '**命令**',
    '',
    ...entries.map(([kind, names]) => `- ${names.map(backslash).join(' / ')}：${COMMAND_HELP[kind].zh}`),
    '',
    '开头的 `\\` 也可以换成 `/`，或中文输入法下按 \\ 键打出的顿号 `、`，或全角的 `＼` 和 `／`；命令后面的文字会被忽略。其他内容都会发给助手，并附上最近几轮对话作为上下文。',
    '',
    '**Commands**',
    '',
    ...entries.map(([kind, names]) => `- ${names.map(backslash).join(' or ')}: ${COMMAND_HELP[kind].en}`),
    '',
    'The leading `\\` may also be `/`, the `、` a Chinese input method types for the `\\` key, or the full-width `＼` or `／`; ' +
      'words after a command are ignored. Anything else is sent to the assistant, with the last few exchanges as context.',
  ].join('\n');
})();

/** Format characters (zero-width spaces and joiners, U+FEFF, U+2060, bidi marks): invisible, so never part of a command. */
const INVISIBLE = /\p{Cf}/gu;

/** A prefix, a word of letters, digits, `_` or `-`, and the rest of the text. */
const COMMAND_LINE = /^([\\/\u3001])([\p{L}\p{N}_-]+)(.*)$/su;

/** What may follow a known command's name: nothing, a space and any words, or only punctuation (`/clear!`, `、清除。`). */
const AFTER_NAME = /^(?:$|\s|[\p{P}\p{S}]+$)/u;

/** A word that can be an unknown command: ASCII, starting with a letter (so `/2` and `/usr/bin` are not). */
const ASCII_WORD = /^[a-z][a-z0-9_-]*$/;

/**
 * The text as commands are matched: invisible characters removed, NFKC (full-width letters and
 * slashes, NBSP and the ideographic space become their plain forms), trimmed and in lower case.
 * Used only to recognise commands: chat text goes to the LLM as the user typed it.
 */
export function commandForm(text: string): string {
  return text.replace(INVISIBLE, '').normalize('NFKC').trim().toLowerCase();
}

/**
 * Parses what the user typed into a `Command`.
 *
 * A command is one of `COMMAND_PREFIXES` followed directly by a command name (`\clear`, `/help`,
 * `、清除`, `＼ｃｌｅａｒ`), in any case, with invisible characters or spaces around it; words after the
 * name are ignored (`/clear please`). A prefix followed by one ASCII word the bot does not know and
 * nothing else (`/foo`) is `unknown`. Everything else is chat, so sentences that merely start with a
 * slash or `、` (`/usr/bin is missing`, `、然后呢`, `/etc/hosts 是什么`) reach the LLM, trimmed but
 * otherwise unchanged.
 */
export function parseCommand(text: string): Command {
  const form = commandForm(text);
  if (form === '') return { kind: 'empty' };
  const match = COMMAND_LINE.exec(form);
  if (match !== null) {
    const name = match[2] ?? '';
    const rest = match[3] ?? '';
    const kind = KIND_OF_NAME.get(name);
    if ((kind === 'model' || kind === 'system') && (rest === '' || /^\s/u.test(rest))) {
      const argument = argumentAsTyped(text, name);
      if (argument === '') return { kind };
      if (kind === 'model') return { kind, name: argument.split(/\s+/u)[0] ?? argument };
      return SYSTEM_RESET.includes(argument.toLowerCase()) ? { kind, reset: true } : { kind, text: argument };
    }
    if (kind === 'forget' && (rest === '' || /^\s/u.test(rest))) {
      const which = forgetArgument(rest);
      return which === undefined ? { kind } : { kind, which };
    }
    if (kind !== undefined && kind !== 'forget' && kind !== 'model' && kind !== 'system' && AFTER_NAME.test(rest)) return { kind };
    if (kind === undefined && rest === '' && ASCII_WORD.test(name)) return { kind: 'unknown', name };
  }
  return { kind: 'chat', text: text.trim() };
}
