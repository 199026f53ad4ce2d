import fc from 'fast-check';
import { COMMAND_NAMES, COMMAND_PREFIXES, HELP_TEXT, commandForm, parseCommand, type Command } from '../../../shared/core/commands';

/** Every prefix a user can type: `\`, `/`, the `、` a Chinese input method types for `\`, and the full-width forms. */
const TYPED_PREFIXES = ['\\', '/', '、', '＼', '／'];
/** Invisible characters chat clients and copy-paste put around words. */
const INVISIBLE = { ZWSP: '\u200b', ZWNJ: '\u200c', ZWJ: '\u200d', BOM: '\ufeff', 'WORD JOINER': '\u2060' };
const SPACES = { NBSP: '\u00a0', 'ideographic space': '\u3000' };

const clear: Command = { kind: 'clear' };
const help: Command = { kind: 'help' };
const chat = (text: string): Command => ({ kind: 'chat', text });

describe('parseCommand reads commands as people type them', () => {
  it.each<[string, string]>([
    ['the backslash', '\\clear'],
    ['the slash', '/clear'],
    ['the ideographic comma a Chinese input method types for \\', '、clear'],
    ['the full-width backslash', '＼clear'],
    ['the full-width slash', '／clear'],
    ['full-width letters', '\\ｃｌｅａｒ'],
    ['full-width slash and capitals', '／ＣＬＥＡＲ'],
    ['capitals', '\\CLEAR'],
    ['mixed case', '/Clear'],
    ['spaces and newlines around it', ' \\clear \n'],
    ['the English alias reset', '\\reset'],
  ])('reads \\clear typed with %s (%j) as clear', (_how, text) => {
    expect(parseCommand(text)).toEqual(clear);
  });

  it.each(Object.entries(INVISIBLE))('reads \\clear with a %s before and after it as clear', (_name, char) => {
    expect(parseCommand(`${char}\\clear${char}`)).toEqual(clear);
  });

  it.each(Object.entries(INVISIBLE))('reads \\clear with a %s between the prefix and the name as clear', (_name, char) => {
    expect(parseCommand(`\\${char}clear`)).toEqual(clear);
  });

  it.each(Object.entries(SPACES))('reads \\clear with an %s before and after it as clear', (_name, char) => {
    expect(parseCommand(`${char}\\clear${char}`)).toEqual(clear);
  });

  it.each(TYPED_PREFIXES.flatMap((prefix) => ['清除', '重置', '清空'].map((name) => `${prefix}${name}`)))(
    'reads the Chinese name %j as clear',
    (text) => {
      expect(parseCommand(text)).toEqual(clear);
    },
  );

  it.each([...TYPED_PREFIXES.map((prefix) => `${prefix}help`), ...TYPED_PREFIXES.map((prefix) => `${prefix}帮助`), '\\ＨＥＬＰ', '  \\HELP\n'])(
    'reads %j as help',
    (text) => {
      expect(parseCommand(text)).toEqual(help);
    },
  );

  it.each<[string, Command]>([
    ['\\clear please', clear],
    ['/clear please', clear],
    ['、clear please', clear],
    ['、清除 谢谢', clear],
    ['/clear\nthanks', clear],
    ['\\clear\u3000谢谢', clear],
    ['\\clear!', clear],
    ['、清除。', clear],
    ['/help me', help],
    ['/help?', help],
  ])('ignores what follows a known command: %j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['\\foo', 'foo'],
    ['/foo', 'foo'],
    ['、foo', 'foo'],
    ['＼Foo', 'foo'],
    ['/ｆｏｏ', 'foo'],
    ['\\clear-cache', 'clear-cache'],
    ['/clearance', 'clearance'],
  ])('reads %j, a prefix and one unknown ASCII word alone, as the unknown command %j', (text, name) => {
    expect(parseCommand(text)).toEqual({ kind: 'unknown', name });
  });
});

describe('parseCommand leaves sentences to the LLM', () => {
  it.each([
    '/usr/bin is missing',
    '、然后呢',
    '/etc/hosts 是什么',
    '\\foo bar',
    '/foo bar',
    '/clear.sh 是什么',
    '/clearance sale',
    '\\清除记录',
    '、帮助一下',
    '清除',
    '帮助',
    'clear',
    'help',
    '/ clear',
    '//clear',
    '\\\\clear',
    '/2',
    '、、',
    '\\n 是换行吗',
    '@Bot \\clear',
    'ask @Alice about it',
  ])('reads %j as chat, unchanged', (text) => {
    expect(parseCommand(text)).toEqual(chat(text));
  });

  it('sends "@Override what does this annotation do in Java?" to the LLM whole', () => {
    const text = '@Override what does this annotation do in Java?';
    expect(parseCommand(text)).toEqual(chat(text));
  });

  it('sends a lone "@Override" to the LLM, not the help text', () => {
    expect(parseCommand('@Override')).toEqual(chat('@Override'));
  });

  it('trims the chat text and changes nothing else: no NFKC, invisible characters kept', () => {
    expect(parseCommand('  ｈｅｌｌｏ　ｗｏｒｌｄ，ｆｕｌｌ-ｗｉｄｔｈ  ')).toEqual(chat('ｈｅｌｌｏ　ｗｏｒｌｄ，ｆｕｌｌ-ｗｉｄｔｈ'));
    expect(parseCommand('\u00a0a\u200bb\u3000')).toEqual(chat('a\u200bb'));
    expect(parseCommand('  今天天气怎么样？  ')).toEqual(chat('今天天气怎么样？'));
  });

  it('keeps full-width text after a prefix as the user typed it when it is not a command', () => {
    expect(parseCommand('／ｕｓｒ／ｂｉｎ 不见了')).toEqual(chat('／ｕｓｒ／ｂｉｎ 不见了'));
  });
});

describe('parseCommand on messages with nothing in them', () => {
  it.each<[string, string]>([
    ['empty', ''],
    ['spaces, tabs and newlines', '   \n\t '],
    ['NBSP and ideographic spaces', '\u00a0\u3000\u3000'],
    ['only zero-width characters', '\u200b\u200c\u200d\ufeff\u2060'],
  ])('reads a message that is %s as empty', (_what, text) => {
    expect(parseCommand(text)).toEqual({ kind: 'empty' });
  });
});

describe('the command table', () => {
  const entries = Object.entries(COMMAND_NAMES);

  it('holds every name in the form commands are matched in, each name once', () => {
    const names = entries.flatMap(([, list]) => list);
    for (const name of names) expect(commandForm(name)).toBe(name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(entries.flatMap(([kind, names]) => names.flatMap((name) => TYPED_PREFIXES.map((prefix) => [kind, `${prefix}${name}`] as const))))(
    'reads every name of every command with every prefix: %s from %j',
    (kind, text) => {
      expect(parseCommand(text)).toEqual({ kind });
      // Commands that take an argument read it; the others ignore what follows.
      expect(parseCommand(`${text} and more words`)).toMatchObject({ kind });
    },
  );

  it('lists the prefixes as they are after NFKC', () => {
    expect([...new Set(TYPED_PREFIXES.map(commandForm))].sort()).toEqual([...COMMAND_PREFIXES].sort());
  });
});

describe('parseCommand on any text', () => {
  it('reads text that does not start with a prefix as chat, trimmed and otherwise unchanged, or as empty', () => {
    const starts = new Set(COMMAND_PREFIXES);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (text) => {
        const form = commandForm(text);
        fc.pre(!starts.has(form.charAt(0)));
        const command = parseCommand(text);
        return form === '' ? command.kind === 'empty' : command.kind === 'chat' && command.text === text.trim();
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a known command followed by a space and any text as that command', () => {
    const commands = Object.entries(COMMAND_NAMES).flatMap(([kind, names]) => names.map((name) => [kind, name] as const));
    fc.assert(
      fc.property(fc.constantFrom(...commands), fc.constantFrom(...TYPED_PREFIXES), fc.string({ maxLength: 30 }), ([kind, name], prefix, rest) => {
        // `\forget` reads its argument (a number or `all`); every other command ignores what follows it.
        expect(parseCommand(`${prefix}${name} ${rest}`)).toMatchObject({ kind });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('HELP_TEXT', () => {
  it('lists every name of every command with the backslash', () => {
    for (const name of Object.values(COMMAND_NAMES).flat()) expect(HELP_TEXT).toContain(`\`\\${name}\``);
  });

  it('is in Chinese first, then in English', () => {
    const chinese = HELP_TEXT.indexOf('**命令**');
    const english = HELP_TEXT.indexOf('**Commands**');
    expect(chinese).toBe(0);
    expect(english).toBeGreaterThan(chinese);
    expect(HELP_TEXT.slice(0, english)).toContain('清除我们的对话记录');
    expect(HELP_TEXT.slice(english)).toContain('forget our conversation so far');
  });

  it('names every prefix a user can type, in both languages', () => {
    const english = HELP_TEXT.indexOf('**Commands**');
    for (const part of [HELP_TEXT.slice(0, english), HELP_TEXT.slice(english)]) {
      for (const prefix of TYPED_PREFIXES) expect(part).toContain(`\`${prefix}\``);
    }
  });
});

describe('memory commands', () => {
  it.each<[string, unknown]>([
    ['\\memory', { kind: 'memory' }],
    ['/记忆', { kind: 'memory' }],
    ['、memory please', { kind: 'memory' }],
    ['\\forget 2', { kind: 'forget', which: 2 }],
    ['/forget 12。', { kind: 'forget', which: 12 }],
    ['、忘记 全部', { kind: 'forget', which: 'all' }],
    ['\\forget all', { kind: 'forget', which: 'all' }],
    ['\\forget', { kind: 'forget' }],
    ['\\forget that thing', { kind: 'forget' }],
    ['\\forget 0', { kind: 'forget' }],
    ['\\forgetful', { kind: 'unknown', name: 'forgetful' }],
  ])('reads %s', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it('lists the memory commands in the help text, in Chinese and English', () => {
    expect(HELP_TEXT).toContain('`\\memory`');
    expect(HELP_TEXT).toContain('`\\forget`');
    expect(HELP_TEXT).toContain('长期记忆');
    expect(HELP_TEXT).toContain('what I remember about you');
  });
});

describe('steering commands', () => {
  it.each<[string, unknown]>([
    ['\\model', { kind: 'model' }],
    ['/model qwen-MAX', { kind: 'model', name: 'qwen-MAX' }],
    ['、模型 GPT-4o please', { kind: 'model', name: 'GPT-4o' }],
    ['\\system', { kind: 'system' }],
    ['\\system You are Terse. Answer in English.', { kind: 'system', text: 'You are Terse. Answer in English.' }],
    ['＼ｓｙｓｔｅｍ 用中文回答', { kind: 'system', text: '用中文回答' }],
    ['/system reset', { kind: 'system', reset: true }],
    ['、设定 重置', { kind: 'system', reset: true }],
    ['\\system: x', { kind: 'chat', text: '\\system: x' }],
  ])('reads %s, keeping the argument as typed', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });
});
