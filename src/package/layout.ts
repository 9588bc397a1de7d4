import * as path from 'node:path';
import { inputError } from '../errors';
import type { CabMember } from '../cab/types';

/**
 * Where things are in a payload (FORMATS.md §4). An .msu is a cabinet holding the payload cab
 * (the CBS package), WSUSSCAN.cab (opaque applicability data), `<name>-pkgProperties.txt` and the
 * unattend `<name>.xml`; a bare payload cab (what pkgmgr installs) holds update.mum directly.
 */
export type PayloadLayout =
  | { format: 'cab' }
  | {
      format: 'msu';
      /** every candidate payload cab (all .cab members except WSUSSCAN.cab) */
      payloadCabs: CabMember[];
      wsusScan: CabMember | null;
      pkgProperties: CabMember | null;
      unattend: CabMember | null;
    };

const isTopLevel = (m: CabMember): boolean => !/[\\/]/.test(m.name);

export function detectLayout(members: readonly CabMember[], file: string): PayloadLayout {
  const top = members.filter(isTopLevel);
  if (top.some((m) => m.name.toLowerCase() === 'update.mum')) return { format: 'cab' };
  const wsusScan = top.find((m) => m.name.toLowerCase() === 'wsusscan.cab') ?? null;
  const payloadCabs = top.filter((m) => /\.cab$/i.test(m.name) && m !== wsusScan);
  const pkgProperties = onlyOne(top.filter((m) => /-pkgProperties\.txt$/i.test(m.name)), 'pkgProperties.txt', file);
  // an unattend file alone does not make an MSU: WSUSSCAN.cab or pkgProperties.txt must be there
  if (payloadCabs.length === 0 || (wsusScan === null && pkgProperties === null)) {
    throw inputError('PKG_NOT_A_PAYLOAD', 'not an update payload: no update.mum, and not an MSU (payload .cab with WSUSSCAN.cab or pkgProperties.txt)', { file });
  }
  return { format: 'msu', payloadCabs, wsusScan, pkgProperties, unattend: chooseUnattend(top, pkgProperties, file) };
}

/** The unattend .xml: the only one, else the one named like pkgProperties.txt (`<name>.xml` next to `<name>-pkgProperties.txt`). */
function chooseUnattend(top: CabMember[], pkgProperties: CabMember | null, file: string): CabMember | null {
  const xmls = top.filter((m) => /\.xml$/i.test(m.name));
  if (xmls.length <= 1) return xmls[0] ?? null;
  const stem = pkgProperties?.name.replace(/-pkgProperties\.txt$/i, '').toLowerCase();
  const named = xmls.filter((m) => m.name.toLowerCase() === `${stem}.xml`);
  return onlyOne(named.length === 1 ? named : xmls, 'unattend .xml', file);
}

function onlyOne(found: CabMember[], what: string, file: string): CabMember | null {
  if (found.length > 1) {
    throw inputError('MSU_AMBIGUOUS_LAYOUT', `the MSU holds ${found.length} ${what} members (${found.map((m) => m.name).join(', ')}); expected one`, { file });
  }
  return found[0] ?? null;
}

/**
 * The payload cab wusa would install: the one the unattend file names, else the one named like
 * the MSU itself, else the only one.
 */
export function choosePayloadCab(candidates: CabMember[], unattendSource: string | null, msuFileName: string, file: string): CabMember {
  const byName = (name: string): CabMember | undefined => candidates.find((m) => m.name.toLowerCase() === name.toLowerCase());
  if (unattendSource !== null) {
    const named = byName(unattendSource);
    if (named) return named;
    throw inputError('MSU_SOURCE_MISSING', `the unattend .xml installs "${unattendSource}", which the MSU does not contain`, { file });
  }
  const sameName = byName(`${path.basename(msuFileName, path.extname(msuFileName))}.cab`);
  if (sameName) return sameName;
  if (candidates.length === 1) return candidates[0];
  throw inputError('MSU_AMBIGUOUS_LAYOUT', `the MSU holds ${candidates.length} payload cabs (${candidates.map((m) => m.name).join(', ')}) and nothing says which one installs`, { file });
}
