import { loadReplyConfig, type Env } from '../../../shared/config/load-config';
import { variable } from '../../../shared/config/variables';
import { ConfigError } from '../../../shared/errors';
import { thrown } from '../../helpers/thrown';

const REPLY_ENV: Env = { OPENAI_API_KEY: 'sk-test-Ab12Cd34Ef56Gh78Ij90', OSS_BUCKET: 'bot-state' };

/** The ConfigError `load` throws. */
const configError = (load: () => unknown): ConfigError => thrown(ConfigError, load);

describe('loadReplyConfig: VISION_MODEL', () => {
  it('leaves visionModel out when VISION_MODEL is unset or blank (OPENAI_MODEL is used then)', () => {
    expect(loadReplyConfig(REPLY_ENV).llm).not.toHaveProperty('visionModel');
    expect(loadReplyConfig({ ...REPLY_ENV, VISION_MODEL: '  ' }).llm).not.toHaveProperty('visionModel');
  });

  it('reads VISION_MODEL, trimmed, as llm.visionModel beside llm.model', () => {
    const { llm } = loadReplyConfig({ ...REPLY_ENV, OPENAI_MODEL: 'qwen-plus', VISION_MODEL: ' qwen-vl-max ' });
    expect(llm).toMatchObject({ model: 'qwen-plus', visionModel: 'qwen-vl-max' });
  });

  it('documents VISION_MODEL with examples and its default, for the reply function', () => {
    const spec = variable('VISION_MODEL');
    expect(spec.usedBy).toEqual(['reply']);
    expect(spec.default).toBeUndefined();
    for (const example of ['qwen-vl-max', 'gpt-4o', 'glm-4v', 'Default: OPENAI_MODEL']) expect(spec.description).toContain(example);
  });
});

describe('loadReplyConfig: LLM_EXTRA_BODY', () => {
  it('leaves extraBody out when LLM_EXTRA_BODY is unset', () => {
    expect(loadReplyConfig(REPLY_ENV).llm).not.toHaveProperty('extraBody');
  });

  it('reads a JSON object, nested values included', () => {
    const { llm } = loadReplyConfig({ ...REPLY_ENV, LLM_EXTRA_BODY: ' {"enable_thinking": false, "search_options": {"forced_search": true}} ' });
    expect(llm.extraBody).toEqual({ enable_thinking: false, search_options: { forced_search: true } });
  });

  it('refuses invalid JSON naming the variable, without repeating the value whole', () => {
    const value = "{'enable_thinking': false, secret_looking_value_123}";
    const error = configError(() => loadReplyConfig({ ...REPLY_ENV, LLM_EXTRA_BODY: value }));
    expect(error.message).toMatch(/LLM_EXTRA_BODY must be a JSON object such as \{"enable_thinking": false\}; it is not valid JSON/);
    expect(error.message).not.toContain('secret_looking_value_123');
  });

  it.each([
    ['an array', '[{"enable_thinking": false}]'],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"enable_thinking"'],
    ['a boolean', 'true'],
  ])('refuses %s: it must be an object', (what, value) => {
    expect(configError(() => loadReplyConfig({ ...REPLY_ENV, LLM_EXTRA_BODY: value })).message).toContain(`LLM_EXTRA_BODY must be a JSON object such as {"enable_thinking": false} (got ${what})`);
  });

  it('refuses the fields the bot sets itself, naming them', () => {
    const error = configError(() => loadReplyConfig({ ...REPLY_ENV, LLM_EXTRA_BODY: '{"model": "x", "stream": true, "enable_search": true}' }));
    expect(error.message).toContain('LLM_EXTRA_BODY cannot set model, stream: the bot sets model, messages, stream, stream_options itself');
  });

  it('says in its description that model, messages, stream and stream_options cannot be set', () => {
    const { description } = variable('LLM_EXTRA_BODY');
    expect(description).toContain('{"enable_thinking": false}');
    expect(description).toContain('cannot set model, messages, stream or stream_options');
  });
});
