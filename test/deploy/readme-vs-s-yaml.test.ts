import { readFileSync } from 'node:fs';
import path from 'node:path';
import { listEnvReferences, renderSYaml, sampleEnvironment, REPO_ROOT } from './s-yaml';

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

describe("the README's deploy steps and s.yaml", () => {
  const references = listEnvReferences();
  const rendered = renderSYaml({ FC_ROLE_ARN: 'acs:ram::1234567890123456:role/dingtalk-llm-role' });
  const props = (name: string): Record<string, unknown> => rendered.resources[name]?.props ?? {};

  it('documents every variable s.yaml reads at deploy time', () => {
    for (const { name } of references) expect(readme).toContain(name);
  });

  it('exports in its deploy step every variable s.yaml or the functions require', () => {
    const deployStep = readme.slice(readme.indexOf('### 4. Set the variables and deploy'), readme.indexOf('### 5.'));
    for (const required of ['FC_ROLE_ARN', 'DINGTALK_APP_SECRET', 'OPENAI_API_KEY', 'OSS_BUCKET']) {
      expect(deployStep).toContain(`export ${required}=`);
    }
    expect(references.filter((ref) => ref.defaultValue === undefined).map((ref) => ref.name)).toEqual(['FC_ROLE_ARN']);
  });

  it('names the functions and the default region as s.yaml deploys them', () => {
    expect(readme).toContain(String(props('conversation').functionName));
    expect(readme).toContain(String(props('reply').functionName));
    expect(readme).toContain(`default \`${String(props('reply').region)}\``);
  });

  it("states the reply function's timeout as s.yaml sets it", () => {
    expect(readme).toContain(`(${String(props('reply').timeout)} s in\n\`s.yaml\`)`);
  });

  it('grants in its RAM policy the reply function that conversation invokes', () => {
    expect(readme).toContain(`functions/${String(props('reply').functionName)}`);
    const env = renderSYaml(sampleEnvironment()).resources.conversation?.props.environmentVariables as Record<string, string>;
    expect(env.REPLY_FUNCTION_NAME).toBe(sampleEnvironment().REPLY_FUNCTION_NAME);
  });
});
