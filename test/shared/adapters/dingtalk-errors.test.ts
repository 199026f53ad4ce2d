import { mapDingTalkAnswer, TOKEN_API } from '../../../shared/adapters/dingtalk-errors';

const API = '/v1.0/card/streaming';
const keep = (text: string): string => text;

describe("mapping DingTalk's error answers", () => {
  it.each([
    [403, { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi' }, 'throttled'],
    [403, { code: 'Forbidden.AccessDenied.QpsLimitForApi' }, 'throttled'],
    [429, {}, 'throttled'],
    [403, { code: 'Forbidden.AccessDenied.ApiCountLimitForOrg' }, 'quota'],
    [403, { code: 90020 }, 'quota'],
    [403, { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' }, 'permission'],
    [403, { code: 'Forbidden', accessdenieddetail: { requiredScopes: ['Card.Instance.Write'] } }, 'permission'],
    [400, { code: 'InvalidAuthentication', message: '不合法的access_token' }, 'auth'],
    [401, { code: 'InvalidAuthentication' }, 'auth'],
    [400, { code: 'param.templateUnpublished' }, 'template'],
    [500, { code: 'InternalError' }, 'server'],
    [502, {}, 'server'],
    [400, { code: 'InvalidParameter', message: 'outTrackId is required' }, 'rejected'],
    [404, { code: 'InvalidAction.NotFound' }, 'rejected'],
  ])('maps HTTP %i %j to %s', (status, body, reason) => {
    expect(mapDingTalkAnswer(API, status, body, keep).reason).toBe(reason);
  });

  it('reads any 4xx of the token call, but throttling, as refused credentials', () => {
    expect(mapDingTalkAnswer(TOKEN_API, 400, { code: 'invalidClientIdOrSecret' }, keep)).toMatchObject({ reason: 'auth', api: TOKEN_API });
    expect(mapDingTalkAnswer(TOKEN_API, 403, { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' }, keep).reason).toBe('auth');
    expect(mapDingTalkAnswer(TOKEN_API, 403, { code: 'Forbidden.AccessDenied.QpsLimitForApi' }, keep).reason).toBe('throttled');
  });

  it('keeps the required scopes and marks only throttling and server failures retryable', () => {
    const permission = mapDingTalkAnswer(API, 403, { code: 'x', accessdenieddetail: { requiredScopes: ['Card.Streaming.Write', 7] } }, keep);
    expect(permission.requiredScopes).toEqual(['Card.Streaming.Write']);
    expect(permission.retryable).toBe(false);
    expect(mapDingTalkAnswer(API, 429, {}, keep).retryable).toBe(true);
    expect(mapDingTalkAnswer(API, 503, {}, keep).retryable).toBe(true);
  });

  it("passes DingTalk's message through the scrubber before it goes into the error", () => {
    const scrub = (text: string): string => text.replace('tok-123', '***');
    const error = mapDingTalkAnswer(API, 400, { code: 'InvalidParameter', message: 'bad token tok-123 here' }, scrub);
    expect(error.message).toContain('bad token *** here');
    expect(error.message).not.toContain('tok-123');
  });
});
