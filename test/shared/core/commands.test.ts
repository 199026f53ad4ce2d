import { HELP_TEXT, parseCommand, stripMention, type Command } from '../../../shared/core/commands';

describe('parseCommand', () => {
  it.each<[string, Command]>([
    ['\\clear', { kind: 'clear' }],
    ['/clear', { kind: 'clear' }],
    [' \\clear ', { kind: 'clear' }],
    ['@Bot \\clear', { kind: 'clear' }],
    ['@Bot @Other   /clear', { kind: 'clear' }],
    ['\\CLEAR', { kind: 'clear' }],
    ['/Clear', { kind: 'clear' }],
    ['\\help', { kind: 'help' }],
    ['/help', { kind: 'help' }],
    ['  \\HELP\n', { kind: 'help' }],
  ])('reads %j as a %j command', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it('reads an unknown backslash word as an unknown command', () => {
    expect(parseCommand('\\foo')).toEqual({ kind: 'unknown', name: 'foo' });
    expect(parseCommand('\\Foo')).toEqual({ kind: 'unknown', name: 'foo' });
  });

  it('reads an unknown backslash word followed by text as an unknown command, not a question', () => {
    expect(parseCommand('\\foo bar')).toEqual({ kind: 'unknown', name: 'foo' });
  });

  it('reads an empty message as empty', () => {
    expect(parseCommand('')).toEqual({ kind: 'empty' });
    expect(parseCommand('   \n\t ')).toEqual({ kind: 'empty' });
  });

  it('reads a lone @mention as empty', () => {
    expect(parseCommand('@Bot')).toEqual({ kind: 'empty' });
  });

  it('reads a lone @mention followed by spaces as empty', () => {
    expect(parseCommand(' @Bot  ')).toEqual({ kind: 'empty' });
  });

  it('reads a question starting with a slash path as chat', () => {
    expect(parseCommand('/etc/hosts 是什么')).toEqual({ kind: 'chat', text: '/etc/hosts 是什么' });
  });

  it('reads ordinary text as chat with the text trimmed', () => {
    expect(parseCommand('  今天天气怎么样？  ')).toEqual({ kind: 'chat', text: '今天天气怎么样？' });
  });

  it('removes a leading typed mention from a chat message', () => {
    expect(parseCommand('@Bot what is 2+2?')).toEqual({ kind: 'chat', text: 'what is 2+2?' });
  });

  it('keeps a mention that is not at the start', () => {
    expect(parseCommand('ask @Alice about it')).toEqual({ kind: 'chat', text: 'ask @Alice about it' });
  });

  it('reads a command word with trailing text after /clear as chat', () => {
    expect(parseCommand('/clear the cache how?')).toEqual({ kind: 'chat', text: '/clear the cache how?' });
  });
});

describe('stripMention', () => {
  it('removes leading mentions and surrounding spaces', () => {
    expect(stripMention('  @Bot  @Other hello  ')).toBe('hello');
  });
});

describe('HELP_TEXT', () => {
  it('documents both commands', () => {
    expect(HELP_TEXT).toContain('\\clear');
    expect(HELP_TEXT).toContain('\\help');
  });
});
