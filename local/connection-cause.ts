/**
 * A connection failure's code (ECONNREFUSED, ENOTFOUND, a certificate error) anywhere in an error's causes or
 * its message: what doctor and admin name when a store or service cannot be reached.
 */
export function connectionCause(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, message: text, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && /^(E[A-Z]+|[A-Z_]*CERT[A-Z_]*)$/.test(code)) return code;
    const found = typeof text === 'string' ? /\b(E(?:CONNREFUSED|NOTFOUND|AI_AGAIN|TIMEDOUT|CONNRESET|HOSTUNREACH)|[A-Z_]*CERT[A-Z_]*)\b/.exec(text)?.[1] : undefined;
    if (found !== undefined) return found;
    current = cause;
  }
  return undefined;
}
