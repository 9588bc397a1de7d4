/**
 * The one escape function every HTML page of cabferry uses for text that came from an input
 * (host names, file names, metadata titles, certificate names, result-log lines).
 *
 * The output is pure ASCII: markup characters become entities, every non-ASCII character a
 * numeric reference, so the page reads the same whatever code page the browser guesses (IE7 on a
 * bare Server 2008 opening a file from a stick may ignore the declared charset). Control
 * characters are not legal HTML text: they are shown as visible \xNN so evidence is not silently
 * altered, and a lone UTF-16 surrogate (not a character) becomes U+FFFD.
 */
export function escapeHtml(value: string): string {
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0xfffd;
    if (cp === 0x26) out += '&amp;';
    else if (cp === 0x3c) out += '&lt;';
    else if (cp === 0x3e) out += '&gt;';
    else if (cp === 0x22) out += '&quot;';
    else if (cp === 0x27) out += '&#39;';
    else if (cp === 0x09 || cp === 0x0a || cp === 0x0d) out += ch;
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) out += `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (cp < 0x7f) out += ch;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '&#xFFFD;';
    else out += `&#x${cp.toString(16).toUpperCase()};`;
  }
  return out;
}

/** Escaped text, or the given placeholder (already HTML) when the value is absent. */
export function textOr(value: string | null | undefined, placeholder: string): string {
  return value === null || value === undefined || value === '' ? placeholder : escapeHtml(value);
}
