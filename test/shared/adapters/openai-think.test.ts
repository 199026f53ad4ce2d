import { visibleAnswer } from '../../../shared/adapters/openai-think';

describe('visibleAnswer (reasoning written into the content)', () => {
  it('removes a leading <think> block and the blanks around it', () => {
    expect(visibleAnswer('<think>\nThe user greets me.\n</think>\n\nHello!')).toEqual({ text: 'Hello!', thinking: false });
    expect(visibleAnswer('\n  <think>a</think><think>b</think>  Hi')).toEqual({ text: 'Hi', thinking: false });
  });

  it('shows nothing while the model is inside a leading <think> block, or may be starting one', () => {
    for (const raw of ['<', '<th', ' <think', '<think>', '<think>\nLet me see', '<think>\nLet me see</thi']) {
      expect({ raw, ...visibleAnswer(raw) }).toEqual({ raw, text: '', thinking: true });
    }
  });

  it('leaves an answer without reasoning as it is, blanks included', () => {
    expect(visibleAnswer('  Hello <b>world</b>')).toEqual({ text: '  Hello <b>world</b>', thinking: false });
    expect(visibleAnswer('<b>bold</b>')).toEqual({ text: '<b>bold</b>', thinking: false });
  });

  it('keeps a <think> tag that the answer mentions later, as text', () => {
    const raw = 'Qwen3 wraps its reasoning in <think> and </think> tags.';
    expect(visibleAnswer(raw)).toEqual({ text: raw, thinking: false });
  });

  it('ends the reasoning at a </think> without its <think> (a template that opened it in the prompt)', () => {
    expect(visibleAnswer('Okay, the user asks 2+2.\n</think>\n\nFour.')).toEqual({ text: 'Four.', thinking: false });
  });

  it('leaves nothing of an unclosed block at the end', () => {
    expect(visibleAnswer('<think>\nI was cut off by max_tokens')).toEqual({ text: '', thinking: true });
  });
});
