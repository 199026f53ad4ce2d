/**
 * Settings of the laptop tools only (`npm start`, `npm run chat`, `npm run doctor`). The functions never
 * read them, so they live here rather than in `shared/config/variables.ts`; `.env.example` lists both.
 * Put them in `.env.local` (never read by `s deploy`), not in `.env`.
 */
export interface LocalVariableSpec {
  name: string;
  /** The value used when unset ('' for none). */
  default: string;
  description: string;
}

/** Every local-only setting, in the order `.env.example` lists them. */
export const LOCAL_VARIABLES: readonly LocalVariableSpec[] = [
  { name: 'PORT', default: '9000', description: 'Port of the local conversation endpoint (`npm start`); `npm run chat` sends to it.' },
  {
    name: 'HOST',
    default: '127.0.0.1',
    description: 'Interface `npm start` listens on. Keep 127.0.0.1 and use a tunnel to let DingTalk reach it.',
  },
  {
    name: 'FORCE_MOCK_OPENAI',
    default: '',
    description: 'Set to 1 to use the built-in offline responder even when OPENAI_API_KEY is set (it is used anyway without a key).',
  },
  {
    name: 'LOCAL_DATA_DIR',
    default: '.data',
    description: 'Folder of local state: history (unless HISTORY_DIR, OSS_BUCKET or S3_BUCKET is set) and the generated app secret.',
  },
  {
    name: 'LOCAL_ENV_FILES',
    default: '.env.local,.env',
    description:
      'Files the local tools read, comma-separated, the first one winning (the shell wins over all); `none` reads no file, as the tests do. Set it in the shell: a file cannot name the files.',
  },
];

/** The value of a local setting: the environment's (trimmed, '' counting as unset), else its default. */
export function localSetting(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const spec = LOCAL_VARIABLES.find((candidate) => candidate.name === name);
  if (spec === undefined) throw new Error(`unknown local setting ${name}: add it to local/local-variables.ts`);
  const value = env[name]?.trim();
  return value === undefined || value === '' ? spec.default : value;
}
