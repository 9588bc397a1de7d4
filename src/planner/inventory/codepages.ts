/**
 * The 8-bit code pages Windows consoles write (`systeminfo > file`, `reg query > file` in cmd.exe)
 * that Node's TextDecoder does not know: OEM 850 (Western Europe: German, French, Spanish,
 * Italian, Brazilian Portuguese consoles) and OEM 437 (US). Bytes 0x00-0x7F are ASCII in both;
 * the tables give bytes 0x80-0xFF in order (from the code page definitions; checked against
 * Python's cp850/cp437 codecs). windows-1252 and Shift_JIS (cp932) come from TextDecoder.
 */

export type CodePage = 'cp850' | 'cp437' | 'windows-1252' | 'shift_jis';

const HIGH_HALF: Record<'cp850' | 'cp437', string> = {
  cp850: 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒáíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐' +
    '└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀ÓßÔÒõÕµþÞÚÛÙýÝ¯´\u00ad±‗¾¶§÷¸°¨·¹³²■\u00a0',
  cp437: 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
    '└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0',
};

export function decodeCodePage(bytes: Uint8Array, cp: CodePage): string {
  if (cp === 'windows-1252' || cp === 'shift_jis') return new TextDecoder(cp).decode(bytes);
  const high = HIGH_HALF[cp];
  const codes = new Uint16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    codes[i] = b < 0x80 ? b : high.charCodeAt(b - 0x80);
  }
  // every character of both tables is in the Basic Multilingual Plane: one UTF-16 unit per byte
  return Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength).toString('utf16le');
}

/** Shift_JIS bytes decode without a single replacement character (a test of plausibility, not proof). */
export function isCleanShiftJis(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('shift_jis', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

let shiftJisEncoder: Map<string, number[]> | null = null;

/**
 * Text → bytes in a code page, for writing fixtures the way a localized host writes them.
 * A character the code page cannot hold is an error (a fixture must not silently differ).
 */
export function encodeCodePage(text: string, cp: CodePage): Buffer {
  const out: number[] = [];
  const table = cp === 'shift_jis' ? shiftJisTable() : singleByteTable(cp);
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) out.push(code);
    else {
      const bytes = table.get(ch);
      if (!bytes) throw new Error(`${JSON.stringify(ch)} has no byte in ${cp}`);
      out.push(...bytes);
    }
  }
  return Buffer.from(out);
}

function singleByteTable(cp: 'cp850' | 'cp437' | 'windows-1252'): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const high = cp === 'windows-1252' ? new TextDecoder('windows-1252').decode(Uint8Array.from({ length: 128 }, (_, i) => 0x80 + i)) : HIGH_HALF[cp];
  [...high].forEach((ch, i) => {
    if (!m.has(ch)) m.set(ch, [0x80 + i]);
  });
  return m;
}

function shiftJisTable(): Map<string, number[]> {
  if (shiftJisEncoder) return shiftJisEncoder;
  const m = new Map<string, number[]>();
  const dec = new TextDecoder('shift_jis');
  for (let b = 0xa1; b <= 0xdf; b++) m.set(dec.decode(Uint8Array.of(b)), [b]);
  for (const lead of [...range(0x81, 0x9f), ...range(0xe0, 0xfc)]) {
    for (const trail of [...range(0x40, 0x7e), ...range(0x80, 0xfc)]) {
      const ch = dec.decode(Uint8Array.of(lead, trail));
      if (ch.length === 1 && ch !== '\ufffd' && !m.has(ch)) m.set(ch, [lead, trail]);
    }
  }
  shiftJisEncoder = m;
  return m;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
