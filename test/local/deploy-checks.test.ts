import { readFileSync } from 'node:fs';
import path from 'node:path';
import { variable } from '../../shared/config/variables';
import {
  declaredMounts,
  deployRefusals,
  hostKind,
  llmBackoffSeconds,
  renderedEnvironments,
  renderRefusals,
  replyTimeBudget,
  resourceProp,
  type DeployRefusal,
} from '../../local/deploy-checks';

const S_YAML = readFileSync(path.resolve(__dirname, '../../s.yaml'), 'utf8');

/** What a team deploys with: the README's deploy step. */
const GOOD: Record<string, string> = {
  FC_ROLE_ARN: 'acs:ram::1234567890123456:role/dingtalk-llm-role',
  DINGTALK_APP_SECRET: 'a'.repeat(64),
  OPENAI_API_KEY: 'sk-deploy',
  OPENAI_BASE_URL: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
  OSS_BUCKET: 'my-dingtalk-llm-history',
};

const refusals = (env: Record<string, string>, sYaml = S_YAML, origins: Record<string, string> = {}): DeployRefusal[] => deployRefusals(env, sYaml, origins);
const names = (list: DeployRefusal[]): string[] => list.map((refusal) => refusal.name);

/** s.yaml with the reply resource's block changed by `edit`. */
const replyEdited = (edit: (text: string) => string): string => {
  const at = S_YAML.indexOf('  reply:\n');
  const end = S_YAML.indexOf('  conversation:\n');
  return `${S_YAML.slice(0, at)}${edit(S_YAML.slice(at, end))}${S_YAML.slice(end)}`;
};

describe('the deploy check', () => {
  it('lets the README’s configuration through, with every default of s.yaml', () => {
    expect(refusals(GOOD)).toEqual([]);
    expect(renderRefusals([])).toMatch(/every value s\.yaml will deploy can work/);
  });

  it('renders each function’s environment as s does: the value, or the default when unset or empty', () => {
    const rendered = renderedEnvironments({ ...GOOD, OPENAI_MODEL: '', HISTORY_LENGTH: '7' }, S_YAML);
    expect(rendered.reply).toMatchObject({ OPENAI_API_KEY: 'sk-deploy', OPENAI_MODEL: 'gpt-4o-mini', HISTORY_LENGTH: '7', OSS_REGION: '' });
    expect(rendered.conversation).toEqual({ DINGTALK_APP_SECRET: GOOD.DINGTALK_APP_SECRET, REPLY_FUNCTION_NAME: 'dingtalk-llm-reply', LOG_LEVEL: 'info' });
    expect(resourceProp(S_YAML, 'reply', 'timeout')).toBe('180');
    expect(resourceProp(S_YAML, 'conversation', 'memorySize')).toBe('128');
  });

  it('refuses empty required variables (DINGTALK_APP_SECRET=\'\', OPENAI_API_KEY=\'\', OSS_BUCKET=\'\' in .env), with what each is and where to find it', () => {
    const env = { ...GOOD, DINGTALK_APP_SECRET: '', OPENAI_API_KEY: '', OSS_BUCKET: '' };
    const origins = { DINGTALK_APP_SECRET: '.env', OPENAI_API_KEY: '.env', OSS_BUCKET: '.env' };
    const found = refusals(env, S_YAML, origins);
    expect(names(found)).toEqual(['DINGTALK_APP_SECRET', 'OPENAI_API_KEY', 'HISTORY_DIR']);
    const secret = found[0] as DeployRefusal;
    expect(secret.problem).toContain(variable('DINGTALK_APP_SECRET').where);
    expect(secret.problem).toContain("it is set to '' in .env");
    expect(secret.fix).toMatch(/Set DINGTALK_APP_SECRET in \.env beside s\.yaml, or in the shell/);
    expect(found[1]?.problem).toContain(variable('OPENAI_API_KEY').where);
    expect(found[2]?.problem).toMatch(/OSS_BUCKET or S3_BUCKET is required.*set to '': OSS_BUCKET \(from \.env\)/);
    expect(found[2]?.fix).toMatch(/OSS_BUCKET \(recommended\)/);
  });

  it('says that s.yaml deploys DINGTALK_APP_SECRET, not its alias DINGTALK_CLIENT_SECRET', () => {
    const found = refusals({ ...GOOD, DINGTALK_APP_SECRET: '', DINGTALK_CLIENT_SECRET: 'b'.repeat(64) });
    expect(found).toHaveLength(1);
    expect(found[0]?.fix).toMatch(/DINGTALK_CLIENT_SECRET is set, but s\.yaml deploys only DINGTALK_APP_SECRET/);
  });

  it.each([
    ['OPENAI_BASE_URL', 'http://127.0.0.1:11434/v1', 'loopback'],
    ['OPENAI_BASE_URL', 'http://localhost:8000/v1', 'loopback'],
    ['OPENAI_BASE_URL', 'http://[::1]:8000/v1', 'loopback'],
    ['OPENAI_BASE_URL', 'http://192.168.1.20:11434/v1', 'private network'],
    ['OPENAI_BASE_URL', 'http://ollama:11434/v1', 'single-label'],
    ['OSS_ENDPOINT', 'http://127.0.0.1:9000', 'loopback'],
    ['OSS_ENDPOINT', 'https://10.0.0.5', 'private network'],
    ['S3_ENDPOINT', 'http://minio.local:9000', 'private network'],
    ['DINGTALK_API_BASE', 'http://127.0.0.1:7001', 'loopback'],
    ['DINGTALK_API_BASE', 'http://169.254.169.254', 'link-local'],
    ['MEM0_BASE_URL', 'http://localhost:8888', 'loopback'],
  ])('refuses %s=%s (%s), naming the variable and what it is', (name, value, words) => {
    const env = name === 'S3_ENDPOINT' ? { ...GOOD, OSS_BUCKET: '', S3_BUCKET: 'my-bucket', [name]: value } : { ...GOOD, [name]: value };
    const found = refusals(env, S_YAML, { [name]: '.env' });
    expect(names(found)).toEqual([name]);
    expect(found[0]?.problem).toContain(`${name}=${JSON.stringify(value)} (from .env)`);
    expect(found[0]?.problem).toContain(words);
    expect(found[0]?.fix).toContain(variable(name).description);
  });

  it('lets public URLs and Alibaba Cloud’s internal endpoints through', () => {
    expect(refusals({ ...GOOD, OSS_ENDPOINT: 'https://oss-cn-hangzhou-internal.aliyuncs.com', OPENAI_BASE_URL: 'https://api.deepseek.com/v1' })).toEqual([]);
  });

  it('lets private addresses through when s.yaml puts the reply function in a VPC, but never loopback', () => {
    const inVpc = replyEdited((text) => text.replace('      internetAccess: true\n', '      internetAccess: true\n      vpcConfig:\n        vpcId: vpc-1\n'));
    expect(refusals({ ...GOOD, OPENAI_BASE_URL: 'http://10.1.2.3:8000/v1' }, inVpc)).toEqual([]);
    expect(names(refusals({ ...GOOD, OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1' }, inVpc))).toEqual(['OPENAI_BASE_URL']);
  });

  it('checks FC_ENDPOINT too if s.yaml ever passes it', () => {
    const passes = replyEdited((text) => text.replace('        LOG_LEVEL:', "        FC_ENDPOINT: ${env('FC_ENDPOINT', '')}\n        LOG_LEVEL:"));
    expect(names(refusals({ ...GOOD, FC_ENDPOINT: 'http://127.0.0.1:9001' }, passes))).toEqual(['FC_ENDPOINT']);
    // Not passed by the real s.yaml: a local FC_ENDPOINT never reaches FC.
    expect(refusals({ ...GOOD, FC_ENDPOINT: 'http://127.0.0.1:9001' })).toEqual([]);
  });

  it.each(['/home/me/dingtalk-history', '.data/history', '/mnt/oss/history'])('refuses HISTORY_DIR=%s when s.yaml mounts nothing there, even with OSS_BUCKET set', (dir) => {
    const found = refusals({ ...GOOD, HISTORY_DIR: dir });
    expect(names(found)).toEqual(['HISTORY_DIR']);
    expect(found[0]?.problem).toMatch(/s\.yaml mounts nothing into it.*temporary disk/);
    expect(found[0]?.fix).toMatch(/Unset HISTORY_DIR and set OSS_BUCKET/);
  });

  it('accepts HISTORY_DIR under a mountDir that s.yaml declares for the reply function, and nowhere else', () => {
    const mounted = replyEdited((text) =>
      text.replace('      internetAccess: true\n', '      internetAccess: true\n      ossMountConfig:\n        mountPoints:\n          - bucketName: my-bucket\n            mountDir: /mnt/oss\n'),
    );
    expect(declaredMounts(mounted, 'reply')).toEqual({ dirs: ['/mnt/oss'], auto: false });
    expect(refusals({ ...GOOD, OSS_BUCKET: '', HISTORY_DIR: '/mnt/oss/history' }, mounted)).toEqual([]);
    expect(refusals({ ...GOOD, OSS_BUCKET: '', HISTORY_DIR: '/mnt/oss' }, mounted)).toEqual([]);
    expect(names(refusals({ ...GOOD, HISTORY_DIR: '/mnt/ossx/history' }, mounted))).toEqual(['HISTORY_DIR']);
    expect(names(refusals({ ...GOOD, HISTORY_DIR: '/mnt/oss/../../tmp' }, mounted))).toEqual(['HISTORY_DIR']);
  });

  it.each(['oapi.dingtalk.com,127.0.0.1', 'localhost', 'oapi.dingtalk.com, 10.0.0.1'])('refuses DINGTALK_WEBHOOK_HOSTS=%s', (hosts) => {
    const found = refusals({ ...GOOD, DINGTALK_WEBHOOK_HOSTS: hosts });
    expect(names(found)).toEqual(['DINGTALK_WEBHOOK_HOSTS']);
    expect(found[0]?.fix).toMatch(/npm start adds 127\.0\.0\.1 by itself/);
  });

  it.each(['', 'dingtalk-llm-role', 'acs:ram::123:role/', 'acs:ram::abc:role/x', 'acs:ram:cn-hangzhou:123:role/x', 'arn:aws:iam::123:role/x'])(
    'refuses FC_ROLE_ARN=%j',
    (arn) => {
      const found = refusals({ ...GOOD, FC_ROLE_ARN: arn });
      expect(names(found)).toEqual(['FC_ROLE_ARN']);
      expect(found[0]?.fix).toContain('acs:ram::<account id>:role/<role name>');
    },
  );

  it('refuses a card template without DINGTALK_CLIENT_ID, and accepts it with one', () => {
    const found = refusals({ ...GOOD, DINGTALK_CARD_TEMPLATE_ID: 'abc.schema' });
    expect(names(found)).toEqual(['DINGTALK_CLIENT_ID']);
    expect(found[0]?.problem).toContain('DINGTALK_CARD_TEMPLATE_ID');
    expect(refusals({ ...GOOD, DINGTALK_CARD_TEMPLATE_ID: 'abc.schema', DINGTALK_CLIENT_ID: 'dingabc' })).toEqual([]);
  });

  it('refuses an LLM time budget over the reply timeout read from s.yaml, term by term', () => {
    expect(llmBackoffSeconds(2)).toBe(1.5);
    expect(llmBackoffSeconds(5)).toBe(15.5);
    expect(replyTimeBudget({})).toMatchObject({ attempts: 3, totalSeconds: 3 * 45 + 1.5 + 10 + 10 });
    const found = refusals({ ...GOOD, LLM_TIMEOUT_SECONDS: '100', LLM_MAX_RETRIES: '5' });
    expect(names(found)).toEqual(['LLM_TIMEOUT_SECONDS']);
    expect(found[0]?.problem).toContain('a run may need 635.5 s');
    expect(found[0]?.problem).toContain("timeout of 180 s in s.yaml");
    expect(found[0]?.fix).toMatch(/raise `timeout:` of the reply resource in s\.yaml to at least 636/);
    // Just inside: 3 × 52 + 1.5 + 10 + 10 = 177.5 ≤ 180; one second more is 180.5.
    expect(refusals({ ...GOOD, LLM_TIMEOUT_SECONDS: '52' })).toEqual([]);
    expect(names(refusals({ ...GOOD, LLM_TIMEOUT_SECONDS: '53' }))).toEqual(['LLM_TIMEOUT_SECONDS']);
    // The timeout is s.yaml's: the defaults do not fit a 120 s reply function.
    expect(names(refusals(GOOD, replyEdited((text) => text.replace('      timeout: 180\n', '      timeout: 120\n'))))).toEqual(['LLM_TIMEOUT_SECONDS']);
  });

  it('reports an s.yaml it cannot read instead of guessing', () => {
    expect(names(refusals(GOOD, "resources:\n  reply:\n    props:\n      environmentVariables:\n        A: ${env(A)}\n"))).toEqual(['s.yaml']);
  });

  it('prints each refusal with its fix, and says nothing was uploaded and where laptop values go', () => {
    const text = renderRefusals(refusals({ ...GOOD, OPENAI_API_KEY: '' }));
    expect(text).toMatch(/^deploy check: not deploying, 1 value cannot work in Function Compute:\n {2}✗ reply: OPENAI_API_KEY is required/);
    expect(text).toContain('    → Set OPENAI_API_KEY in .env beside s.yaml');
    expect(text).toMatch(/Nothing was uploaded\..*\n.*\.env\.local, which s never reads/);
  });

  it('never prints a secret pasted into the wrong variable', () => {
    const found = refusals({ ...GOOD, OPENAI_BASE_URL: 'sk-pasted-secret-0123456789' });
    expect(names(found)).toEqual(['OPENAI_BASE_URL']);
    expect(renderRefusals(found)).not.toContain('sk-pasted-secret-0123456789');
  });
});

describe('hostKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['localhost', 'loopback'],
    ['api.localhost', 'loopback'],
    ['::1', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.10', 'private'],
    ['fd00::1', 'private'],
    ['nas.local', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['ollama', 'single-label'],
    ['172.32.0.1', 'public'],
    ['100.100.100.200', 'public'],
    ['oapi.dingtalk.com', 'public'],
    ['oss-cn-hangzhou-internal.aliyuncs.com', 'public'],
    ['2001:db8::1', 'public'],
  ])('%s is %s', (host, kind) => {
    expect(hostKind(host)).toBe(kind);
  });
});
