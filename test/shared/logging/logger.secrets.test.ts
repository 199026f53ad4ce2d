/** The logger's last line of defence: configured secrets are redacted in the forms they travel in. */
import { createLogger } from '../../../shared/logging/logger';
import { guarantee } from '../../helpers/guarantee';

function lines(secrets: string[], fields: Record<string, string>): string {
  const written: string[] = [];
  createLogger({ secrets, write: (line) => written.push(line) }).error('test.event', fields);
  return written.join('\n');
}

describe(guarantee('No secrets in logs'), () => {
  const KEY = 'sk-proj/Live+Key=0123456789';

  it('redacts a secret URL-encoded in a logged URL or message', () => {
    const text = lines([KEY], { url: `https://llm.example/v1/models?key=${encodeURIComponent(KEY)}`, message: `bad key ${encodeURIComponent(KEY)}` });
    expect(text).not.toContain(encodeURIComponent(KEY));
    expect(text).not.toContain(KEY);
    expect(JSON.parse(text)).toMatchObject({ url: 'https://llm.example/v1/models?key=[redacted]', message: 'bad key [redacted]' });
  });

  it('redacts a non-ASCII secret written as is and URL-encoded', () => {
    const secret = '钉钉密钥-0123456789';
    const text = lines([secret], { a: `x${secret}y`, b: `x${encodeURIComponent(secret)}y` });
    expect(JSON.parse(text)).toMatchObject({ a: 'x[redacted]y', b: 'x[redacted]y' });
  });
});
