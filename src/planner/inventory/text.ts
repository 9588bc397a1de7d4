import { decodeCodePage, isCleanShiftJis, type CodePage } from './codepages';

/**
 * Text as Windows tools write it: `wmic` redirected to a file writes UTF-16LE with a BOM,
 * `systeminfo` and `reg` in cmd.exe write the console's OEM code page (850 in Western Europe,
 * 437 in the US, 932 in Japan), PowerShell's `>` and Windows PowerShell 2's Export-Csv write
 * UTF-16LE ("Unicode"). Decided by BOM, then by the NUL pattern, then by UTF-8 validity; 8-bit
 * text that is not UTF-8 has no mark of its code page, so every plausible one is offered and
 * the reader of the format picks (see bestSystemInfoDecoding).
 */
export interface DecodedText {
  text: string;
  encoding: 'utf-16le' | 'utf-16be' | 'utf-8' | CodePage;
}

/** The decodings these bytes allow, the most likely first; one when the bytes say which. */
export function decodeCandidates(bytes: Uint8Array): DecodedText[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return [{ text: buf.subarray(2).toString('utf16le'), encoding: 'utf-16le' }];
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return [{ text: swapBytes(buf.subarray(2)).toString('utf16le'), encoding: 'utf-16be' }];
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return [{ text: buf.subarray(3).toString('utf8'), encoding: 'utf-8' }];
  if (looksUtf16le(buf)) return [{ text: buf.toString('utf16le'), encoding: 'utf-16le' }];
  const utf8 = buf.toString('utf8');
  if (!utf8.includes('\uFFFD')) return [{ text: utf8, encoding: 'utf-8' }];
  // OEM 850 first: the console code page of the Western European hosts this tool meets most
  const pages: CodePage[] = ['cp850', 'windows-1252', 'cp437'];
  if (isCleanShiftJis(buf)) pages.push('shift_jis');
  return pages.map((encoding) => ({ text: decodeCodePage(buf, encoding), encoding }));
}

export function decodeWindowsText(bytes: Uint8Array): string {
  return decodeCandidates(bytes)[0].text;
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
 * comma-separated (or `;` — Export-Csv -UseCulture on a German or French host), fields
 * optionally in double quotes, "" inside quotes for a quote.
 */
export function parseCsvRecords(text: string, delimiter: ',' | ';' = ','): string[][] {
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
    else if (c === delimiter) endField();
    else if (c === '\n') endRow();
    else if (c !== '\r') field += c;
    i++;
  }
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/** The separator of a CSV header line: the one of `,` and `;` that occurs outside quotes (comma when both or neither). */
export function csvDelimiter(headerLine: string): ',' | ';' {
  const outside = headerLine.replace(/"[^"]*"/g, '');
  return outside.includes(';') && !outside.includes(',') ? ';' : ',';
}
