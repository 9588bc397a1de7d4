/**
 * Text as Windows tools write it: `wmic` redirected to a file writes UTF-16LE with a BOM,
 * `systeminfo` and `reg` write the OEM code page, PowerShell 2's Export-Csv writes UTF-16LE
 * ("Unicode") by default. Decode by BOM, then by the NUL pattern, else as latin1-compatible
 * UTF-8 (the fields we read are ASCII).
 */
export function decodeWindowsText(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return swapBytes(buf.subarray(2)).toString('utf16le');
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return buf.subarray(3).toString('utf8');
  if (looksUtf16le(buf)) return buf.toString('utf16le');
  const utf8 = buf.toString('utf8');
  // OEM-code-page bytes (e.g. "®" as 0xA9 in cp437 output) are not valid UTF-8; latin1 keeps the ASCII intact
  return utf8.includes('\uFFFD') ? buf.toString('latin1') : utf8;
}

function looksUtf16le(buf: Buffer): boolean {
  const n = Math.min(buf.length - (buf.length % 2), 512);
  if (n < 4) return false;
  let oddNuls = 0;
  for (let i = 1; i < n; i += 2) if (buf[i] === 0) oddNuls++;
  return oddNuls >= (n / 2) * 0.8;
}

function swapBytes(buf: Buffer): Buffer {
  const out = Buffer.alloc(buf.length - (buf.length % 2));
  for (let i = 0; i + 1 < buf.length; i += 2) {
    out[i] = buf[i + 1];
    out[i + 1] = buf[i];
  }
  return out;
}

/** Split into lines; wmic output piped through cmd ends lines with "\r\r\n". */
export function splitLines(text: string): string[] {
  return text.split(/\r*\n|\r/);
}

/**
 * RFC 4180 CSV as Windows writes it (systeminfo /fo csv, wmic /format:csv, Export-Csv):
 * comma-separated, fields optionally in double quotes, "" inside quotes for a quote.
 */
export function parseCsvRecords(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endField = (): void => {
    row.push(field);
    field = '';
  };
  const endRow = (): void => {
    endField();
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') endRow();
    else if (c !== '\r') field += c;
    i++;
  }
  if (field !== '' || row.length > 0) endRow();
  return rows;
}
