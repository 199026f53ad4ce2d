/**
 * Renders the markdown DingTalk shows as readable terminal text: headings and bold in bold, lists with
 * bullets, quotes with a bar, code blocks indented, links as `text <url>`. Plain text when `color` is
 * false (pipes, NO_COLOR), so transcripts carry no escape codes.
 */
const BOLD = ['\u001b[1m', '\u001b[22m'] as const;
const DIM = ['\u001b[2m', '\u001b[22m'] as const;
const ITALIC = ['\u001b[3m', '\u001b[23m'] as const;
const CYAN = ['\u001b[36m', '\u001b[39m'] as const;

function inline(text: string, style: (pair: readonly [string, string], inner: string) => string): string {
  return text
    .replace(/`([^`]+)`/g, (_m, code: string) => style(CYAN, code))
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, label: string, url: string) => `${label} <${url}>`)
    .replace(/\*\*([^*]+)\*\*|__([^_]+)__/g, (_m, a: string | undefined, b: string | undefined) => style(BOLD, a ?? b ?? ''))
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?!\*)/g, (_m, before: string, inner: string) => `${before}${style(ITALIC, inner)}`)
    .replace(/(^|\W)_([^_\s][^_]*)_(?=\W|$)/g, (_m, before: string, inner: string) => `${before}${style(ITALIC, inner)}`);
}

/** The markdown `text` as terminal lines. */
export function renderMarkdown(text: string, options: { color: boolean }): string {
  const style = (pair: readonly [string, string], inner: string): string => (options.color ? `${pair[0]}${inner}${pair[1]}` : inner);
  const out: string[] = [];
  let fenced = false;
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      out.push(style(DIM, `    ${line}`));
      continue;
    }
    const heading = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line);
    const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
    const quote = /^\s*>\s?(.*)$/.exec(line);
    if (heading) out.push(style(BOLD, inline(heading[1] ?? '', style)));
    else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) out.push('─'.repeat(20));
    else if (bullet) out.push(`${bullet[1] ?? ''}• ${inline(bullet[2] ?? '', style)}`);
    else if (quote) out.push(`│ ${inline(quote[1] ?? '', style)}`);
    else out.push(inline(line, style));
  }
  return out.join('\n');
}
