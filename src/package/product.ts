import type { Architecture } from './types';

/**
 * Which Windows a payload is for. The evidence, strongest first: the verified update.mum
 * (identity version 6.0.x.y, processorArchitecture), pkgProperties.txt ("Applies to",
 * "ApplicabilityInfo", "Processor Architecture"), and the file name (Windows6.0-KB…-x64).
 */

interface ProductFamily {
  ntVersion: string;
  /** server product first: cabferry's hosts are servers, so it is the primary product */
  server: string;
  client: string;
  /** the file-name prefix Microsoft uses */
  filePrefix: string;
}

const families: ProductFamily[] = [
  { ntVersion: '6.0', server: 'Windows Server 2008', client: 'Windows Vista', filePrefix: 'Windows6.0' },
  { ntVersion: '6.1', server: 'Windows Server 2008 R2', client: 'Windows 7', filePrefix: 'Windows6.1' },
  { ntVersion: '6.2', server: 'Windows Server 2012', client: 'Windows 8', filePrefix: 'Windows8-RT' },
  { ntVersion: '6.3', server: 'Windows Server 2012 R2', client: 'Windows 8.1', filePrefix: 'Windows8.1' },
];

/** "Windows6.0-KB2999226-x64.msu" → "6.0", "Windows8.1-…" → "6.3"; null when the name says nothing. */
export function ntVersionFromFileName(fileName: string): string | null {
  const lower = fileName.toLowerCase();
  for (const f of families) if (lower.startsWith(`${f.filePrefix.toLowerCase()}-`)) return f.ntVersion;
  const m = /^windows(\d+\.\d+)-/i.exec(fileName);
  return m ? m[1] : null;
}

/** "6.0.6002.18005" / "6.1.1.7" → "6.0" / "6.1" (package versions start with the NT version). */
export function ntVersionFromPackageVersion(version: string | undefined): string | null {
  const m = version ? /^(\d+)\.(\d+)\./.exec(version) : null;
  return m ? `${m[1]}.${m[2]}` : null;
}

/** "-x64" in a file name, "amd64" in metadata → the model's spelling. */
export function normalizeArchitecture(value: string | null | undefined): Architecture | null {
  if (!value) return null;
  switch (value.toLowerCase()) {
    case 'x86':
    case 'i386':
      return 'x86';
    case 'amd64':
    case 'x64':
      return 'amd64';
    case 'ia64':
      return 'ia64';
    case 'arm64':
      return 'arm64';
    case 'neutral':
    case 'msil':
      return 'neutral';
    default:
      return null;
  }
}

/** The architecture suffix of a payload file name ("…-x64.msu" → amd64). */
export function architectureFromFileName(fileName: string): Architecture | null {
  const m = /-(x86|x64|ia64|arm64|amd64)(?:_[0-9a-f]+)?\.(?:msu|cab)$/i.exec(fileName);
  return m ? normalizeArchitecture(m[1]) : null;
}

export interface ProductEvidence {
  ntVersion: string;
  architecture: string | null;
  /** pkgProperties ApplicabilityInfo items ("Windows Vista SP1", "Windows 7.0 Server SP1", …) */
  applicability: string[];
  /** names of the `<parent>` packages (Microsoft-Windows-Server-Features-Package, …) */
  parentNames: string[];
  /** names of the packages the top package contains (…_client, …_server, …_sc) */
  subPackageNames: string[];
}

/**
 * Products a payload applies to, server first. ApplicabilityInfo says it best ("Windows Vista SP1;
 * Windows Server 2008;" or "Windows 7.0 Client SP1;…Server SP1"); without it (a bare payload cab)
 * the edition packages named as parents (Server-Features / ServerCore vs Client-Features /
 * Embedded), then client/server sub-packages, else both products of the NT version. From NT 6.1
 * on there is no 32-bit server, so an x86 payload is for the client product only; ia64 is server only.
 */
export function productsFor(evidence: ProductEvidence): string[] {
  const family = families.find((f) => f.ntVersion === evidence.ntVersion);
  if (!family) return [`Windows NT ${evidence.ntVersion}`];
  let server = false;
  let client = false;
  for (const item of evidence.applicability) {
    const s = item.toLowerCase();
    if (s.includes('server') || s.includes(family.server.toLowerCase())) server = true;
    else if (s.includes('client') || s.includes('embedded') || s.includes(family.client.toLowerCase())) client = true;
  }
  if (!server && !client) {
    for (const name of evidence.parentNames) {
      const s = name.toLowerCase();
      if (/^microsoft-windows-server/.test(s)) server = true;
      if (/^microsoft-windows-(client|embedded)/.test(s)) client = true;
    }
  }
  if (!server && !client) {
    for (const name of evidence.subPackageNames) {
      const s = name.toLowerCase();
      if (/_(server|sc)(_|$)/.test(s)) server = true;
      if (/_client(_|$)/.test(s)) client = true;
    }
  }
  if (!server && !client) server = client = true;
  if (evidence.architecture === 'x86' && Number(evidence.ntVersion) >= 6.1) server = false;
  // Itanium builds exist only for the server products
  if (evidence.architecture === 'ia64') client = false;
  if (!server && !client) client = true;
  return [...(server ? [family.server] : []), ...(client ? [family.client] : [])];
}
