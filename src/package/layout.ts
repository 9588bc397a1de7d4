import { inputError } from '../errors';
import type { CabMember } from '../cab/types';
import { memberKey, sameMemberName } from '../cab/member-name';

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
  // names as Windows writes them (../cab/member-name): "update.mum." is update.mum to wusa and CBS
  if (top.some((m) => memberKey(m.name) === 'update.mum')) return { format: 'cab' };
  const wsusScan = top.find((m) => memberKey(m.name) === 'wsusscan.cab') ?? null;
  const payloadCabs = top.filter((m) => memberKey(m.name).endsWith('.cab') && m !== wsusScan);
  const pkgProperties = onlyOne(top.filter((m) => memberKey(m.name).endsWith('-pkgproperties.txt')), 'pkgProperties.txt', file);
  // an unattend file alone does not make an MSU: WSUSSCAN.cab or pkgProperties.txt must be there
  if (payloadCabs.length === 0 || (wsusScan === null && pkgProperties === null)) {
    throw inputError('PKG_NOT_A_PAYLOAD', 'not an update payload: no update.mum, and not an MSU (payload .cab with WSUSSCAN.cab or pkgProperties.txt)', { file });
  }
  return { format: 'msu', payloadCabs, wsusScan, pkgProperties, unattend: chooseUnattend(top, pkgProperties, file) };
}

/** The unattend .xml: the only one, else the one named like pkgProperties.txt (`<name>.xml` next to `<name>-pkgProperties.txt`). */
function chooseUnattend(top: CabMember[], pkgProperties: CabMember | null, file: string): CabMember | null {
  const xmls = top.filter((m) => memberKey(m.name).endsWith('.xml'));
  if (xmls.length <= 1) return xmls[0] ?? null;
  const stem = pkgProperties === null ? undefined : memberKey(pkgProperties.name).replace(/-pkgproperties\.txt$/, '');
  const named = xmls.filter((m) => memberKey(m.name) === `${stem}.xml`);
  return onlyOne(named.length === 1 ? named : xmls, 'unattend .xml', file);
}

function onlyOne(found: CabMember[], what: string, file: string): CabMember | null {
  if (found.length > 1) {
    throw inputError('MSU_AMBIGUOUS_LAYOUT', `the MSU holds ${found.length} ${what} members (${found.map((m) => m.name).join(', ')}); expected one`, { file });
  }
  return found[0] ?? null;
}

/**
 * The payload cab, chosen from the MSU's member names alone, before a byte of it is decoded:
 * the one named like its pkgProperties.txt (`<name>-pkgProperties.txt` beside `<name>.cab`),
 * else like its unattend .xml, else the only `Windows…-KB….cab`, else the only candidate; null
 * when the names do not decide (then the unattend .xml must, see payloadCabNamedBy). Member
 * names are covered by the .msu's signature; the name the file was given is not, so it never
 * chooses (review 9, R9-3: the same bytes were KB4493730 or KB4474419 by their file name). Choosing
 * first means no candidate is decoded before the layout is known (issue #17). Real MSUs are
 * decided by the first rule; the unattend .xml is read with the payload cab and must agree
 * (agreesWithUnattend).
 */
export function payloadCabByName(layout: Extract<PayloadLayout, { format: 'msu' }>): CabMember | null {
  const candidates = layout.payloadCabs;
  const stems = [
    layout.pkgProperties === null ? undefined : memberKey(layout.pkgProperties.name).replace(/-pkgproperties\.txt$/, ''),
    layout.unattend === null ? undefined : memberKey(layout.unattend.name).replace(/\.xml$/, ''),
  ];
  for (const stem of stems) {
    if (stem === undefined) continue;
    const named = byName(candidates, `${stem}.cab`);
    if (named) return named;
  }
  const kbNamed = candidates.filter((m) => /^windows[^\\/]*-kb\d+[^\\/]*\.cab$/.test(memberKey(m.name)));
  if (kbNamed.length === 1) return kbNamed[0]!;
  return candidates.length === 1 ? candidates[0]! : null;
}

/** The payload cab the unattend .xml installs, when the names did not decide. */
export function payloadCabNamedBy(candidates: CabMember[], unattendSource: string | null, file: string): CabMember {
  if (unattendSource === null) {
    throw inputError(
      'MSU_AMBIGUOUS_LAYOUT',
      `the MSU holds ${candidates.length} payload cabs (${candidates.map((m) => m.name).join(', ')}) and nothing signed says which one installs: neither an unattend .xml nor a pkgProperties.txt names one of them (the file's own name is not signed, so it does not decide)`,
      { file },
    );
  }
  const named = byName(candidates, unattendSource);
  if (named) return named;
  throw inputError('MSU_SOURCE_MISSING', `the unattend .xml installs "${unattendSource}", which the MSU does not contain`, { file });
}

/**
 * The unattend .xml is what wusa follows: a payload cab chosen by name must be the one it
 * installs. A missing source is MSU_SOURCE_MISSING; another cab of the MSU, MSU_AMBIGUOUS_LAYOUT.
 */
export function agreesWithUnattend(chosen: CabMember, candidates: CabMember[], unattendSource: string | null, file: string): void {
  if (unattendSource === null || sameMemberName(chosen.name, unattendSource)) return;
  const named = payloadCabNamedBy(candidates, unattendSource, file);
  throw inputError('MSU_AMBIGUOUS_LAYOUT', `the unattend .xml installs ${named.name}, but the member names point at ${chosen.name}`, { file });
}

function byName(candidates: CabMember[], name: string): CabMember | undefined {
  return candidates.find((m) => sameMemberName(m.name, name));
}
