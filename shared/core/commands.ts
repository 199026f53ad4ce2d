/** What a user's text asks for, once the leading @mention and spaces are gone. */
export type Command =
  | { kind: 'chat'; text: string }
  | { kind: 'clear' }
  | { kind: 'help' }
  /** A `\word` the bot does not know: answered with the help text, never sent to the LLM. */
  | { kind: 'unknown'; name: string }
  /** Nothing left after stripping the mention: answered with the help text. */
  | { kind: 'empty' };

/** The text users see for `\help`, unknown commands and empty messages. */
export const HELP_TEXT = [
  '**Commands**',
  '',
  '- `\\clear` (or `/clear`): forget our conversation so far',
  '- `\\help` (or `/help`): show this list',
  '',
  'Anything else is sent to the assistant, with the last few exchanges as context.',
].join('\n');

/** Leading mentions DingTalk leaves in the text when the @ was typed rather than picked (`@Bot hello`). */
const LEADING_MENTIONS = /^(?:\s*@\S+)+(?:\s+|$)/u;

/** Removes leading spaces and @mentions, and trailing spaces. */
export function stripMention(text: string): string {
  const trimmed = text.trim();
  return trimmed.replace(LEADING_MENTIONS, '').trim();
}

/** Parses what the user typed into a `Command`. `\clear`, `/clear`, `\help`, `/help` are case-insensitive. */
export function parseCommand(text: string): Command {
  const stripped = stripMention(text);
  if (stripped === '') return { kind: 'empty' };
  const match = /^([\\/])([A-Za-z][\w-]*)$/.exec(stripped);
  if (match) {
    const name = (match[2] ?? '').toLowerCase();
    if (name === 'clear') return { kind: 'clear' };
    if (name === 'help') return { kind: 'help' };
    if (match[1] === '\\') return { kind: 'unknown', name };
  }
  // A backslash word followed by more text ("\foo bar") is also an unknown command, not a question.
  const backslashWord = /^\\([A-Za-z][\w-]*)\s/.exec(stripped);
  if (backslashWord) {
    const name = (backslashWord[1] ?? '').toLowerCase();
    return name === 'clear' ? { kind: 'clear' } : name === 'help' ? { kind: 'help' } : { kind: 'unknown', name };
  }
  return { kind: 'chat', text: stripped };
}
