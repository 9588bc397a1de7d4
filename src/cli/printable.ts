/**
 * Control characters in a hostile name must not reach the terminal raw: a name holding a newline
 * would print lines of its own ("imported KB…") that the command never decided. Shown as \xNN;
 * --json carries names as they are (JSON escapes them).
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
