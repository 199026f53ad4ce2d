import { computeSignature, SIGNATURE_TOLERANCE_MS, verifySignature } from '../../../shared/dingtalk/signature';
import { SignatureError } from '../../../shared/errors';
import { thrown } from '../../helpers/thrown';

const SECRET = 'app-secret-0123456789abcdefABCDEF';
/** A fixed server clock: 2024-11-19T07:06:40Z. */
const NOW = 1_732_000_000_000;
const HOUR = 60 * 60 * 1000;

type VerifyInput = Parameters<typeof verifySignature>[0];

/** A correctly signed, current header pair for SECRET. */
function validInput(overrides: Partial<VerifyInput> = {}): VerifyInput {
  const timestamp = String(NOW);
  return { timestamp, sign: computeSignature(timestamp, SECRET), secret: SECRET, now: NOW, ...overrides };
}

/** The SignatureError `verifySignature` throws for `input`. */
const refusal = (input: VerifyInput): SignatureError => thrown(SignatureError, () => verifySignature(input));

describe('computeSignature', () => {
  it('matches the reference test vector from DingTalk', () => {
    expect(computeSignature('1577262236757', 'this is secret')).toBe('hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=');
  });

  it('gives a different signature for another timestamp or another secret', () => {
    const reference = computeSignature('1577262236757', 'this is secret');
    expect(computeSignature('1577262236758', 'this is secret')).not.toBe(reference);
    expect(computeSignature('1577262236757', 'this is secreT')).not.toBe(reference);
  });
});

describe('verifySignature', () => {
  it('accepts a fresh, correctly signed pair', () => {
    expect(() => verifySignature(validInput())).not.toThrow();
  });

  it('accepts the reference test vector when the clock is at its timestamp', () => {
    expect(() =>
      verifySignature({
        timestamp: '1577262236757',
        sign: 'hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=',
        secret: 'this is secret',
        now: 1577262236757,
      }),
    ).not.toThrow();
  });

  it('accepts a timestamp exactly one hour old or one hour ahead', () => {
    for (const timestamp of [String(NOW - HOUR), String(NOW + HOUR)]) {
      expect(() => verifySignature(validInput({ timestamp, sign: computeSignature(timestamp, SECRET) }))).not.toThrow();
    }
  });

  it('uses a one-hour tolerance by default', () => {
    expect(SIGNATURE_TOLERANCE_MS).toBe(HOUR);
  });

  it('refuses a missing timestamp', () => {
    expect(refusal(validInput({ timestamp: undefined })).message).toMatch(/timestamp/);
  });

  it('refuses an empty timestamp', () => {
    expect(refusal(validInput({ timestamp: '' })).message).toMatch(/timestamp/);
  });

  it('refuses a missing sign', () => {
    expect(refusal(validInput({ sign: undefined })).message).toMatch(/sign/);
  });

  it('refuses an empty sign', () => {
    expect(refusal(validInput({ sign: '' })).message).toMatch(/sign/);
  });

  it.each(['abc', '1732000000000.5', '-1732000000000', ' 1732000000000', '1.732e12', '0x19336D5C400', '12345678901234567'])(
    'refuses the non-numeric or malformed timestamp %j even when it is signed',
    (timestamp) => {
      const error = refusal(validInput({ timestamp, sign: computeSignature(timestamp, SECRET) }));
      expect(error.message).toMatch(/timestamp/);
    },
  );

  it('refuses a timestamp more than an hour old', () => {
    const timestamp = String(NOW - HOUR - 1);
    const error = refusal(validInput({ timestamp, sign: computeSignature(timestamp, SECRET) }));
    expect(error.message).toMatch(/1 hour/);
  });

  it('refuses a timestamp more than an hour in the future', () => {
    const timestamp = String(NOW + HOUR + 1);
    const error = refusal(validInput({ timestamp, sign: computeSignature(timestamp, SECRET) }));
    expect(error.message).toMatch(/1 hour/);
  });

  it('honours a custom tolerance', () => {
    const timestamp = String(NOW - 5_001);
    expect(() => verifySignature(validInput({ timestamp, sign: computeSignature(timestamp, SECRET), toleranceMs: 5_000 }))).toThrow(
      SignatureError,
    );
  });

  it('refuses a wrong sign', () => {
    const sign = computeSignature(String(NOW), SECRET);
    const flipped = `${sign[0] === 'A' ? 'B' : 'A'}${sign.slice(1)}`;
    expect(refusal(validInput({ sign: flipped })).message).toMatch(/does not match/);
  });

  it('refuses a sign made with another secret', () => {
    const sign = computeSignature(String(NOW), 'another-secret-0123456789');
    expect(refusal(validInput({ sign })).message).toMatch(/does not match/);
  });

  it('refuses a sign made for another timestamp', () => {
    const sign = computeSignature(String(NOW - 1), SECRET);
    expect(refusal(validInput({ sign })).message).toMatch(/does not match/);
  });

  it('refuses a sign of a different length without throwing anything but SignatureError', () => {
    const sign = computeSignature(String(NOW), SECRET);
    for (const candidate of [sign.slice(0, -1), `${sign}A`, 'x', `é${sign.slice(1)}`, sign.repeat(2)]) {
      expect(refusal(validInput({ sign: candidate })).message).toMatch(/does not match/);
    }
  });

  it('accepts a correctly signed request when the secret has non-ASCII characters', () => {
    const secret = '钉钉密钥🔑-Überschlüssel';
    const timestamp = String(NOW);
    expect(() => verifySignature({ timestamp, sign: computeSignature(timestamp, secret), secret, now: NOW })).not.toThrow();
  });

  it('refuses a sign made with a different non-ASCII secret', () => {
    const timestamp = String(NOW);
    const sign = computeSignature(timestamp, '钉钉密钥🔐-Überschlüssel');
    expect(refusal({ timestamp, sign, secret: '钉钉密钥🔑-Überschlüssel', now: NOW }).message).toMatch(/does not match/);
  });

  it('never puts the secret or the expected sign into an error message', () => {
    const expected = computeSignature(String(NOW), SECRET);
    const stale = String(NOW - 2 * HOUR);
    const refused: VerifyInput[] = [
      validInput({ timestamp: undefined }),
      validInput({ timestamp: '' }),
      validInput({ sign: undefined }),
      validInput({ sign: '' }),
      validInput({ timestamp: 'abc' }),
      validInput({ timestamp: stale, sign: computeSignature(stale, SECRET) }),
      validInput({ sign: computeSignature(String(NOW), 'another-secret-0123456789') }),
      validInput({ sign: 'short' }),
    ];
    for (const input of refused) {
      const error = refusal(input);
      expect(error).toBeInstanceOf(SignatureError);
      expect(error.kind).toBe('signature');
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain(expected);
    }
  });
});
