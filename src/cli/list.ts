import type { Command } from 'commander';
import { openCab, type Cabinet } from '../cab/cabinet';
import { searchCabinets, type CabinetSearch, type SkippedCandidate } from '../cab/search';
import type { CabMember } from '../cab/types';
import { ExitCode } from '../errors';
import { action, printJson, warn } from './run';
import { printable } from './printable';

/**
 * `cabferry list FILE [--json] [--search]`: the members of a cabinet, with the structure around
 * them; with --search, of every cabinet embedded in FILE (a self-extracting .exe), each with its offset.
 */
export function register(program: Command): void {
  program
    .command('list')
    .description('list the members of a cabinet (.cab/.msu)')
    .argument('<file>', 'cabinet to read')
    .option('--json', 'print one JSON document')
    .option('--search', 'scan FILE for embedded cabinets (e.g. a self-extracting .exe) and list each one')
    .action(
      action((file: string, opts: { json?: boolean; search?: boolean }) => {
        if (opts.search) return listSearch(file, opts.json === true);
        const cab = openCab(file);
        try {
          for (const w of cabinetWarnings(cab)) warn(`${file}: ${w}`);
          if (opts.json) printJson(listDocument(cab, file));
          else process.stdout.write(listText(cab, file));
          return ExitCode.ok;
        } finally {
          cab.close();
        }
      }),
    );
}

function listSearch(file: string, json: boolean): number {
  const search = searchCabinets(file);
  try {
    for (const { offset, cabinet } of search.cabinets) for (const w of cabinetWarnings(cabinet)) warn(`${file}: cabinet at offset ${offset}: ${w}`);
    if (search.skipped.length > 0) warn(`${file}: ${skippedSummary(search.skipped)}`);
    if (json) printJson(searchListDocument(search, file));
    else process.stdout.write(search.cabinets.map(({ offset, length, cabinet }) => listText(cabinet, `${file}: cabinet at offset ${offset} (${length} bytes)`)).join('\n'));
    return ExitCode.ok;
  } finally {
    search.close();
  }
}

/** One stderr line for the "MSCF" bytes that did not begin a cabinet (an SFX stub may well contain the string). */
export function skippedSummary(skipped: readonly SkippedCandidate[]): string {
  const first = skipped[0]!;
  return `${skipped.length} MSCF signature(s) skipped as not a cabinet (first at offset ${first.offset}: ${first.message} [${first.code}])`;
}

export interface SearchListDocument {
  file: string;
  cabinets: (Omit<ListDocument, 'file'> & { offset: number; length: number })[];
  skipped: SkippedCandidate[];
}

export function searchListDocument(search: CabinetSearch, file: string): SearchListDocument {
  return {
    file,
    cabinets: search.cabinets.map(({ offset, length, cabinet }) => ({ offset, length, ...cabinetDocument(cabinet) })),
    skipped: [...search.skipped],
  };
}

export interface ListDocument {
  file: string;
  members: {
    name: string;
    size: number;
    date: string | null;
    attributes: number;
    folder: number;
    compression: string;
    folderOffset: number;
    continuation: string;
    nameIsUtf8: boolean;
  }[];
  folders: { index: number; compression: string; blocks: number; dataOffset: number }[];
  signed: boolean;
  signature: { offset: number; length: number; problem: string | null } | null;
  set: { setId: number; index: number; previous: string | null; next: string | null } | null;
  trailingBytes: number;
  warnings: string[];
}

export function listDocument(cab: Cabinet, file: string): ListDocument {
  return { file, ...cabinetDocument(cab) };
}

/** What `list --json` says about one cabinet, wherever it lies. */
function cabinetDocument(cab: Cabinet): Omit<ListDocument, 'file'> {
  const h = cab.header;
  const sig = h.authenticode;
  return {
    members: cab.members.map((m) => ({
      name: m.name,
      size: m.size,
      date: m.dateTime,
      attributes: m.attributes,
      folder: m.folderIndex,
      compression: cab.folders[m.folderIndex]!.compression.label,
      folderOffset: m.folderOffset,
      continuation: m.continuation,
      nameIsUtf8: m.nameIsUtf8,
    })),
    folders: cab.folders.map((f) => ({ index: f.index, compression: f.compression.label, blocks: f.cCFData, dataOffset: f.coffCabStart })),
    signed: cab.signed,
    signature: sig === null ? null : { offset: sig.sigPos, length: sig.sigLen, problem: sig.problem },
    set: h.prevCabinet !== null || h.nextCabinet !== null ? { setId: h.setID, index: h.iCabinet, previous: h.prevCabinet, next: h.nextCabinet } : null,
    trailingBytes: h.trailingBytes,
    warnings: cabinetWarnings(cab),
  };
}

/** Header anomalies worth a line on stderr (none of them stop reading). */
export function cabinetWarnings(cab: Cabinet): string[] {
  const out = [...cab.header.warnings];
  if (cab.header.authenticode?.problem) out.push(`unusable signature reserve: ${cab.header.authenticode.problem}`);
  if (cab.header.trailingBytes > 0) out.push(`${cab.header.trailingBytes} extra bytes after the cabinet`);
  return out;
}

function listText(cab: Cabinet, file: string): string {
  const h = cab.header;
  const lines: string[] = [];
  const signed = cab.signed ? ', Authenticode signature present' : '';
  lines.push(`${file}: ${cab.members.length} member(s) in ${cab.folders.length} folder(s)${signed}`);
  if (h.prevCabinet !== null || h.nextCabinet !== null) {
    lines.push(`part ${h.iCabinet + 1} of a multi-cabinet set (set id ${h.setID}; previous: ${h.prevCabinet ?? '-'}; next: ${h.nextCabinet ?? '-'})`);
  }
  lines.push(`${'Size'.padStart(12)}  ${'Date'.padEnd(19)}  ${'Attr'.padEnd(6)}  Folder  ${'Compression'.padEnd(11)}  Name`);
  for (const m of cab.members) {
    const comp = cab.folders[m.folderIndex]!.compression.label;
    const cont = m.continuation === 'none' ? '' : `  [continued ${m.continuation}]`;
    lines.push(`${String(m.size).padStart(12)}  ${(m.dateTime ?? '(invalid date)').replace('T', ' ').padEnd(19)}  ${attributeLetters(m)}  ${String(m.folderIndex).padStart(6)}  ${comp.padEnd(11)}  ${printable(m.name)}${cont}`);
  }
  return `${lines.join('\n')}\n`;
}

/** r h s a x u: read-only, hidden, system, archive, execute, UTF-8 name. */
function attributeLetters(m: CabMember): string {
  const bits: [number, string][] = [[0x01, 'r'], [0x02, 'h'], [0x04, 's'], [0x20, 'a'], [0x40, 'x'], [0x80, 'u']];
  return bits.map(([bit, letter]) => (m.attributes & bit ? letter : '-')).join('');
}

