/**
 * The text of `.env.example`, generated from the loader's list (`shared/config/variables.ts`) and the
 * local tools' own settings, so it documents every variable and never drifts: `npm run docs` writes
 * it, a test compares it.
 */
import { VARIABLES, type VariableSpec } from '../shared/config/variables';
import { LOCAL_VARIABLES } from './local-variables';

/** Comment lines of at most `width` characters. */
function comment(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.replace(/`/g, '').split(/\s+/).filter((w) => w !== '')) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

function entry(spec: VariableSpec): string[] {
  const facts = [spec.required ? 'Required' : 'Optional', `read by ${spec.usedBy.join(' and ')}`];
  if (spec.secret) facts.push('secret');
  const lines = comment(`${spec.description}${spec.where ? ` ${spec.where}` : ''} (${facts.join(', ')}.)`);
  if (spec.aliases?.length) lines.push(...comment(`Also accepted as ${spec.aliases.join(', ')}.`));
  // Required variables are left uncommented and empty, to be filled in; others show their default.
  lines.push(spec.required ? `${spec.name}=` : `# ${spec.name}=${spec.default ?? ''}`);
  return lines;
}

/** The whole `.env.example`. */
export function renderEnvExample(): string {
  const sections = [
    [
      '# Copy to .env (deploy values) and/or .env.local (laptop values) and fill in. Never commit either:',
      '# they hold secrets (both are gitignored). Generated from shared/config/variables.ts and',
      '# local/local-variables.ts by `npm run docs`.',
      '#',
      '# .env        what `s deploy` sends to Function Compute (s reads it beside s.yaml; the shell wins).',
      '#             `npm run predeploy-check`, the first pre-deploy action, refuses values that cannot',
      '#             work there: empty required variables, no history store, loopback or private URLs, a',
      '#             HISTORY_DIR that is not a mount declared in s.yaml, an LLM budget over the timeout.',
      '# .env.local  values for this machine only: npm start, npm run chat and npm run doctor read it over',
      '#             .env (the shell wins over both); s never reads it. Put a local OPENAI_BASE_URL, a',
      '#             HISTORY_DIR on this laptop and the local tools\' settings (end of this file) here.',
      '#',
      '# Local mode (npm start) needs none of these: without DINGTALK_APP_SECRET it generates a local',
      '# secret, without OPENAI_API_KEY it answers with an offline responder, and history goes to .data/.',
    ],
    ['# ---- The functions (deployed by s.yaml) ----'],
    ...VARIABLES.map(entry),
    ['# ---- Local tools only (npm start, npm run chat, npm run doctor): put these in .env.local ----'],
    ...LOCAL_VARIABLES.map((spec) => [...comment(spec.description), `# ${spec.name}=${spec.default}`]),
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}
