/**
 * Text from inputs (host names, file names, metadata) on its way to a terminal or a text file:
 * control characters (C0, DEL, C1) and the bidirectional overrides that reorder what a reader
 * sees are written as visible escapes ("\x1b", "\u202e"), so that no input can move the cursor,
 * retitle the window, clear the screen or disguise itself.
 */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Escape what must not reach a terminal raw; newlines and tabs are kept (the caller lays out lines). */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** One field of a line (a name): newlines and tabs escaped too. */
export function visibleName(text: string): string {
  return visibleText(text).replace(/[\n\t]/g, (c) => (c === '\n' ? '\\x0a' : '\\x09'));
}
