/**
 * Text from inputs (host names, file names, metadata) on its way to a terminal or a text file a
 * person reads: control characters (C0, DEL, C1, which can move the cursor, retitle the window
 * or clear the screen) are shown as \xNN escapes instead of reaching the reader raw.
 * Line breaks and tabs inside a multi-line text are kept with `keepLayout`.
 */
export function printable(text: string, keepLayout = false): string {
  // eslint-disable-next-line no-control-regex
  const control = keepLayout ? /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g : /[\x00-\x1f\x7f-\x9f]/g;
  return text.replace(control, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
