/**
 * Text from data (class and dataset names, paths, messages that quote them) as the terminal should
 * see it: control characters written out as escapes, so a name holding ESC cannot recolour,
 * retitle or clear the terminal and one holding a newline cannot fake an extra line. Only for human
 * output; --json is JSON-escaped already.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

export function safe(value: unknown): string {
  return String(value).replace(CONTROL, (c) => {
    if (NAMED[c]) return NAMED[c]
    const code = c.charCodeAt(0)
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
