/**
 * Decodes an FC event into a JSON value. FC hands handlers a Buffer; local callers and tests may pass
 * the string or the already-parsed value. Answers `undefined` for bytes that are not JSON.
 */
export function decodeEventJson(event: unknown): unknown {
  const text = Buffer.isBuffer(event) ? event.toString('utf8') : event;
  if (typeof text !== 'string') return event;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
