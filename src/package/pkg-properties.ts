import { inputError } from '../errors';
import { decodeMetadataText, type TextEncodingName } from './text';

/**
 * `<name>-pkgProperties.txt` of an MSU: `Key="Value"` lines read by wusa.exe. Real files are
 * ASCII with CRLF (the corpus MSUs) or UTF-16LE; the keys are fixed by Microsoft
 * (ApplicabilityInfo, Applies to, KB Article Number, Package Type, Processor Architecture, …).
 */
export interface PkgProperties {
  /** every key as written, in file order */
  entries: Record<string, string>;
  encoding: TextEncodingName;
  /** "KB3118401" from "KB Article Number" */
  kb: string | null;
  /** "Windows 6.1" → "6.1", from "Applies to" (else "Product Name") */
  ntVersion: string | null;
  /** "Processor Architecture" as written (x86, amd64, ia64) */
  processorArchitecture: string | null;
  /** "Package Type": Update, Hotfix, Security Update, … */
  packageType: string | null;
  /** "ApplicabilityInfo" split on ';': ["Windows 7.0 Client SP1", …] */
  applicability: string[];
}

const maxPkgPropertiesBytes = 64 * 1024;
const maxLines = 1000;

export function parsePkgProperties(bytes: Buffer, what = 'pkgProperties.txt'): PkgProperties {
  if (bytes.length > maxPkgPropertiesBytes) {
    throw inputError('PKGPROPS_TOO_LARGE', `${what} is ${bytes.length} bytes; real ones are under 1 KiB (limit ${maxPkgPropertiesBytes})`);
  }
  const { text, encoding } = decodeMetadataText(bytes, { what, allowLatin1: true });
  const entries: Record<string, string> = Object.create(null) as Record<string, string>;
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.length > maxLines) throw inputError('PKGPROPS_TOO_LARGE', `${what} has ${lines.length} lines (limit ${maxLines})`);
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const m = /^\s*([^="]+?)\s*=\s*"(.*)"\s*$/.exec(line);
    if (!m) throw inputError('PKGPROPS_BAD_LINE', `${what} line ${index + 1} is not Key="Value": ${JSON.stringify(line.slice(0, 80))}`);
    entries[m[1]] = m[2];
  });
  if (Object.keys(entries).length === 0) throw inputError('PKGPROPS_EMPTY', `${what} has no Key="Value" lines`);

  const kbNumber = entries['KB Article Number'];
  if (kbNumber !== undefined && !/^\d{5,8}$/.test(kbNumber)) {
    throw inputError('PKGPROPS_BAD_KB', `${what}: "KB Article Number" is "${kbNumber}", expected digits`);
  }
  return {
    entries,
    encoding,
    kb: kbNumber ? `KB${kbNumber}` : null,
    ntVersion: windowsVersionOf(entries['Applies to']) ?? windowsVersionOf(entries['Product Name']),
    processorArchitecture: entries['Processor Architecture'] || null,
    packageType: entries['Package Type'] || null,
    applicability: (entries['ApplicabilityInfo'] ?? '').split(';').map((s) => s.trim()).filter((s) => s !== ''),
  };
}

/** "Windows 6.1" → "6.1"; anything else → null. */
function windowsVersionOf(value: string | undefined): string | null {
  const m = value ? /^Windows\s+(\d+\.\d+)$/i.exec(value.trim()) : null;
  return m ? m[1] : null;
}
