import { createCardChannel, FLOW_STATUS, THINKING_TEXT, type CardSettings, type CardTarget } from '../../../shared/delivery/card-channel';
import { cardSegments } from '../../../shared/delivery/card-segments';
import type { DeliveryChannel } from '../../../shared/delivery/channel';
import type { OpenSpace } from '../../../shared/dingtalk/openapi';
import { DingTalkApiError } from '../../../shared/errors';
import { systemClock } from '../../../shared/ports';
import { dingTalkFailures, OpenApiDouble, roomyCallOptions } from '../../helpers/openapi-double';

const TRACK = 'dtllm-0123456789abcdef0123456789abcdef';
const ROBOT: OpenSpace = { kind: 'robot', staffId: 'manager1234' };
const GROUP: OpenSpace = { kind: 'group', conversationId: 'cidAbCdEfGhIjKlMnOpQrStUvW==', atUsers: { manager1234: '张三' } };
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** Settings with a short interval; `maxChars` small enough to make long answers in tests. */
const settings = (overrides: Partial<CardSettings> = {}): CardSettings => ({ templateId: 'tpl-0001.schema', contentKey: 'content', updateIntervalMs: 500, ...overrides });

/** Fake timers drive both the channel's timers and `systemClock` (Date.now), so time moves only when a test says. */
function setup(options: { space?: OpenSpace; resumed?: boolean; settings?: Partial<CardSettings> } = {}) {
  const openApi = new OpenApiDouble(systemClock);
  const target: CardTarget = { outTrackId: TRACK, space: options.space ?? ROBOT, resumed: options.resumed ?? false };
  const channel = createCardChannel(target, settings(options.settings), { openApi, clock: systemClock });
  return { openApi, channel };
}

/** Lets the channel's promise callbacks run, and time pass by `ms`. */
const pass = (ms = 0): Promise<void> => jest.advanceTimersByTimeAsync(ms);

/** Opens `channel`, expecting it to be ready. */
async function opened(channel: DeliveryChannel): Promise<void> {
  await expect(channel.open(roomyCallOptions())).resolves.toBeUndefined();
}

beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('card channel: open', () => {
  it('creates the card in its thinking state with the template id, the outTrackId, the content key and the space', async () => {
    const { openApi, channel } = setup({ settings: { contentKey: 'msgContent' } });
    await opened(channel);
    const card = openApi.card(TRACK);
    expect(card).toMatchObject({ templateId: 'tpl-0001.schema', space: ROBOT, streams: [] });
    expect(card.created).toEqual({ msgContent: THINKING_TEXT, flowStatus: FLOW_STATUS.processing });
    expect(openApi.calls.map((call) => call.method)).toEqual(['createAndDeliverCard']);
  });

  it('creates a group card in the group, with the asker to @', async () => {
    const { openApi, channel } = setup({ space: GROUP });
    await opened(channel);
    expect(openApi.card(TRACK).space).toEqual(GROUP);
  });

  it.each([
    ['a missing permission', dingTalkFailures.permission],
    ['an unpublished template', dingTalkFailures.templateUnpublished],
  ])('reports %s on create as misconfigured, reaching nothing and not retryable', async (_what, failure) => {
    const { openApi, channel } = setup();
    openApi.failNext('createAndDeliverCard', failure);
    const report = await channel.open(roomyCallOptions());
    expect(report).toMatchObject({ channel: 'card', reached: 'none', misconfigured: true, retryable: false, expired: false });
    expect(report?.error).toBeInstanceOf(DingTalkApiError);
    expect(openApi.cards.size).toBe(0);
  });

  it('reports a throttled or failing create as retryable, not misconfigured', async () => {
    for (const failure of [dingTalkFailures.throttled, dingTalkFailures.server]) {
      const { openApi, channel } = setup();
      openApi.failNext('createAndDeliverCard', () => failure('/v1.0/card/instances/createAndDeliver'));
      await expect(channel.open(roomyCallOptions())).resolves.toMatchObject({ reached: 'none', retryable: true, misconfigured: false });
    }
  });

  it('reports a card created but not delivered (a 200 with a failed deliver result) as reaching nothing', async () => {
    const { openApi, channel } = setup();
    openApi.failNext('createAndDeliverCard', dingTalkFailures.notDelivered);
    await expect(channel.open(roomyCallOptions())).resolves.toMatchObject({ reached: 'none', retryable: false, misconfigured: false });
  });
});

describe('card channel: progress', () => {
  it('coalesces many progress calls into at most one update per updateIntervalMs, each carrying the newest text', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    let latest = '';
    const sentWithLatest: Array<{ content: string; latest: string }> = [];
    const stream = openApi.streamCard.bind(openApi);
    openApi.streamCard = async (request, options) => {
      sentWithLatest.push({ content: request.content, latest });
      return stream(request, options);
    };
    // 100 growths, 20 ms apart: 2 s of streaming.
    for (let n = 0; n < 100; n += 1) {
      latest += `w${n} `;
      channel.progress(latest);
      await pass(20);
    }
    const progress = openApi.progressStreams(TRACK);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThanOrEqual(2_000 / 500 + 1);
    for (let n = 1; n < progress.length; n += 1) {
      expect((progress[n]?.at ?? 0) - (progress[n - 1]?.at ?? 0)).toBeGreaterThanOrEqual(500);
    }
    for (const sent of sentWithLatest) expect(sent.content).toBe(sent.latest);
    await expect(channel.finish(latest, 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'all' });
    const streams = openApi.card(TRACK).streams;
    expect(streams[streams.length - 1]).toMatchObject({ content: latest, isFinalize: true, isError: false });
  });

  it('sends the first text at once, and switches the card to its inputting state before streaming into it', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    channel.progress('Hel');
    await pass(0);
    expect(openApi.card(TRACK).paramUpdates).toEqual([{ flowStatus: FLOW_STATUS.inputting }]);
    expect(openApi.card(TRACK).streams).toEqual([expect.objectContaining({ content: 'Hel', isFinalize: false })]);
    expect(openApi.calls.map((call) => call.method)).toEqual(['createAndDeliverCard', 'updateCard', 'streamCard']);
  });

  it('keeps one update in flight at a time, and sends the newest text once it returns', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    const release = openApi.hold('streamCard');
    channel.progress('a');
    await pass(0);
    let text = 'a';
    for (let n = 0; n < 20; n += 1) {
      text += ` b${n}`;
      channel.progress(text);
      await pass(100);
    }
    // Two seconds later, still the one update DingTalk has not answered.
    expect(openApi.calls.filter((call) => call.method === 'streamCard')).toHaveLength(1);
    release();
    await pass(0);
    expect(openApi.maxInFlight.streamCard).toBe(1);
    expect(openApi.progressStreams(TRACK).map((update) => update.content)).toEqual(['a', text]);
  });

  it('sends no update when the text has not changed', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    channel.progress('same');
    await pass(600);
    channel.progress('same');
    channel.progress('');
    await pass(600);
    expect(openApi.progressStreams(TRACK)).toHaveLength(1);
  });

  it('finishes after the update in flight, with the final text as the last update', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    const release = openApi.hold('streamCard');
    channel.progress('partial');
    await pass(0);
    const finished = channel.finish('partial and whole', 'answer', roomyCallOptions());
    await pass(0);
    release();
    await expect(finished).resolves.toMatchObject({ reached: 'all' });
    expect(openApi.maxInFlight.streamCard).toBe(1);
    expect(openApi.card(TRACK).streams.map(({ content, isFinalize }) => [content, isFinalize])).toEqual([
      ['partial', false],
      ['partial and whole', true],
    ]);
  });

  it('stops sending progress after finish began', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    await channel.finish('done', 'answer', roomyCallOptions());
    channel.progress('done and more');
    await pass(2_000);
    expect(openApi.card(TRACK).streams.map((update) => update.content)).toEqual(['done']);
  });
});

describe('card channel: finish', () => {
  it('streams the final text with isFinalize and marks the card finished', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    const report = await channel.finish('**The answer.**', 'answer', roomyCallOptions());
    expect(report).toMatchObject({ channel: 'card', reached: 'all', retryable: false, expired: false, misconfigured: false });
    expect(report.fields).toMatchObject({ cards: 1 });
    const card = openApi.card(TRACK);
    expect(card.streams).toEqual([expect.objectContaining({ content: '**The answer.**', isFinalize: true, isError: false })]);
    expect(card).toMatchObject({ text: '**The answer.**', finalized: true, error: false });
    expect(card.params).toMatchObject({ content: '**The answer.**', flowStatus: FLOW_STATUS.finished });
  });

  it('does not lose the final text when a progress update failed', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    openApi.failNext('streamCard', () => dingTalkFailures.throttled());
    channel.progress('The ans');
    await pass(0);
    channel.progress('The answer is');
    await pass(600);
    // Progress is best effort: after a failure it stops, and the final text still goes out.
    expect(openApi.card(TRACK).streams).toEqual([]);
    await expect(channel.finish('The answer is 42.', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'all' });
    expect(openApi.card(TRACK)).toMatchObject({ text: 'The answer is 42.', finalized: true });
  });

  it('continues a long answer in numbered cards with outTrackIds <id>-2, <id>-3, each finalized and finished', async () => {
    const { openApi, channel } = setup({ settings: { maxChars: 60 } });
    await opened(channel);
    const answer = Array.from({ length: 5 }, (_, n) => `Paragraph ${n + 1}: ${'lorem ipsum '.repeat(3)}`.trim()).join('\n\n');
    const segments = cardSegments(answer, 60);
    expect(segments.length).toBeGreaterThanOrEqual(3);
    const report = await channel.finish(answer, 'answer', roomyCallOptions());
    expect(report).toMatchObject({ reached: 'all', fields: expect.objectContaining({ cards: segments.length }) });
    const ids = segments.map((_, n) => (n === 0 ? TRACK : `${TRACK}-${n + 1}`));
    expect([...openApi.cards.keys()]).toEqual(ids);
    ids.forEach((id, n) => {
      const card = openApi.card(id);
      expect(card).toMatchObject({ text: segments[n], finalized: true, space: ROBOT, templateId: 'tpl-0001.schema' });
      expect(card.params.flowStatus).toBe(FLOW_STATUS.finished);
    });
    expect(openApi.card(`${TRACK}-2`).text.startsWith('_(2)_')).toBe(true);
  });

  it('finalizes a full card as soon as the streamed answer continues in the next one', async () => {
    const { openApi, channel } = setup({ settings: { maxChars: 60 } });
    await opened(channel);
    const first = `${'First paragraph, long enough. '.repeat(2)}`.trim();
    channel.progress(`${first}\n\nSecond`);
    await pass(0);
    expect(openApi.card(TRACK)).toMatchObject({ text: first, finalized: true });
    expect(openApi.cards.has(`${TRACK}-2`)).toBe(true);
    await channel.finish(`${first}\n\nSecond paragraph.`, 'answer', roomyCallOptions());
    expect(openApi.card(TRACK).streams.filter((update) => update.isFinalize)).toHaveLength(1);
    expect(openApi.card(`${TRACK}-2`)).toMatchObject({ text: '_(2)_\n\nSecond paragraph.', finalized: true });
  });

  it('shows the final answer, not an abandoned attempt, when the streamed text starts again (a retry inside the LLM call)', async () => {
    const { openApi, channel } = setup({ settings: { maxChars: 60 } });
    await opened(channel);
    channel.progress(`${'Attempt one. '.repeat(5)}\n\nmore of attempt one`);
    await pass(0);
    expect(openApi.card(TRACK).finalized).toBe(true);
    const answer = 'Attempt two, the answer that is saved.';
    await expect(channel.finish(answer, 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'all' });
    expect(openApi.card(TRACK)).toMatchObject({ text: answer, finalized: true });
  });

  it('shows a failure message with isError and the failed state', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    channel.progress('half an ans');
    await pass(0);
    const report = await channel.finish('Sorry, the model took too long.', 'failure', roomyCallOptions());
    expect(report).toMatchObject({ reached: 'all' });
    const card = openApi.card(TRACK);
    expect(card.streams[card.streams.length - 1]).toEqual(expect.objectContaining({ content: 'Sorry, the model took too long.', isFinalize: true, isError: true }));
    expect(card).toMatchObject({ error: true, finalized: true });
    expect(card.params.flowStatus).toBe(FLOW_STATUS.failed);
  });

  it('reports a final text DingTalk keeps refusing as reaching nothing, retryable when the failure is', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    openApi.failAlways('streamCard', () => dingTalkFailures.throttled());
    const report = await channel.finish('The answer.', 'answer', roomyCallOptions());
    expect(report).toMatchObject({ channel: 'card', reached: 'none', retryable: true, misconfigured: false });
  });

  it('reports a missing streaming permission on finish as misconfigured', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    openApi.failAlways('streamCard', () => dingTalkFailures.permission('/v1.0/card/streaming', 'Card.Streaming.Write'));
    await expect(channel.finish('The answer.', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'none', misconfigured: true, retryable: false });
  });

  it('counts a failing "finished" state update as cosmetic: the finalized text got through', async () => {
    const { openApi, channel } = setup();
    await opened(channel);
    channel.progress('The');
    await pass(0);
    openApi.failAlways('updateCard', () => dingTalkFailures.server('/v1.0/card/instances'));
    await expect(channel.finish('The answer.', 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'all' });
    expect(openApi.card(TRACK)).toMatchObject({ text: 'The answer.', finalized: true });
  });
});

describe('card channel: a retry of the same message', () => {
  it('streams into the card its first run created when DingTalk refuses the second create, making no second card', async () => {
    const first = setup({ resumed: false });
    await opened(first.channel);
    first.channel.progress('half of');
    await pass(0);
    // The first run died here; FC's retry makes a new channel for the same message.
    const retry = createCardChannel({ outTrackId: TRACK, space: ROBOT, resumed: true }, settings(), { openApi: first.openApi, clock: systemClock });
    await opened(retry);
    const report = await retry.finish('half of the answer, whole.', 'answer', roomyCallOptions());
    expect(report).toMatchObject({ reached: 'all', fields: expect.objectContaining({ cardReused: true }) });
    expect(first.openApi.cards.size).toBe(1);
    expect(first.openApi.calls.filter((call) => call.method === 'createAndDeliverCard')).toHaveLength(2);
    expect(first.openApi.card(TRACK)).toMatchObject({ text: 'half of the answer, whole.', finalized: true });
  });

  it('continues the numbered cards of a long answer too, without duplicates', async () => {
    const first = setup({ settings: { maxChars: 60 } });
    const answer = `${'First paragraph, long enough. '.repeat(2).trim()}\n\nSecond paragraph.`;
    await opened(first.channel);
    first.channel.progress(answer);
    await pass(0);
    expect(first.openApi.cards.size).toBe(2);
    const retry = createCardChannel({ outTrackId: TRACK, space: ROBOT, resumed: true }, settings({ maxChars: 60 }), {
      openApi: first.openApi,
      clock: systemClock,
    });
    await opened(retry);
    await expect(retry.finish(answer, 'answer', roomyCallOptions())).resolves.toMatchObject({ reached: 'all' });
    expect([...first.openApi.cards.keys()]).toEqual([TRACK, `${TRACK}-2`]);
    expect(first.openApi.card(`${TRACK}-2`)).toMatchObject({ text: '_(2)_\n\nSecond paragraph.', finalized: true });
  });

  it('does not take over a card on a first run: a refused create is a failure there', async () => {
    const { openApi, channel } = setup({ resumed: false });
    await openApi.createAndDeliverCard({ templateId: 'tpl-0001.schema', outTrackId: TRACK, cardData: {}, space: ROBOT });
    await expect(channel.open(roomyCallOptions())).resolves.toMatchObject({ reached: 'none', misconfigured: false });
  });

  it('does not take a permission refusal on a retry for an existing card', async () => {
    const { openApi, channel } = setup({ resumed: true });
    openApi.failNext('createAndDeliverCard', dingTalkFailures.permission);
    await expect(channel.open(roomyCallOptions())).resolves.toMatchObject({ reached: 'none', misconfigured: true });
  });
});
