import { InvocationContext, readFcContext } from '../../../shared/fc/context';
import { fcContext, STS_CREDENTIALS } from '../../helpers/fc-context';

const ENV_KEYS = { accessKeyId: 'LTAIenvKeyId0000', accessKeySecret: 'envSecret000000000000' };

describe('InvocationContext', () => {
  it("uses the FC context's temporary credentials, account and region when FC passes them", () => {
    const context = new InvocationContext({ credentials: ENV_KEYS, region: 'cn-beijing', accountId: '999' });
    context.update(fcContext());
    expect(context.credentials()).toEqual(STS_CREDENTIALS);
    expect(context.region()).toBe('cn-hangzhou');
    expect(context.accountId()).toBe('1234567890123456');
  });

  it('falls back on the ALIBABA_CLOUD_* keys and FC_* variables outside FC', () => {
    const context = new InvocationContext({ credentials: ENV_KEYS, region: 'cn-beijing', accountId: '999' });
    context.update({});
    expect(context.credentials()).toEqual(ENV_KEYS);
    expect(context.region()).toBe('cn-beijing');
    expect(context.accountId()).toBe('999');
  });

  it('names the variables to set when there are no credentials at all', () => {
    const context = new InvocationContext({});
    context.update(undefined);
    expect(() => context.credentials()).toThrow(/ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
  });

  it('follows the credentials of each invocation as FC rotates them', () => {
    const context = new InvocationContext({});
    context.update(fcContext());
    const rotated = { ...STS_CREDENTIALS, accessKeyId: 'STS.rotated' };
    context.update(fcContext({ credentials: rotated, requestId: 'req-2' }));
    expect(context.credentials()).toEqual(rotated);
    expect(context.requestId).toBe('req-2');
  });
});

describe('readFcContext', () => {
  it('ignores malformed fields instead of failing', () => {
    expect(readFcContext({ region: 42, credentials: { accessKeyId: 'x' }, function: { memory: '128' } })).toEqual({ function: {} });
    expect(readFcContext(null)).toEqual({});
  });
});
