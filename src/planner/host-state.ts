import type { Payload } from '../package/types';
import { compareDottedVersions } from '../package/assembly-version';
import { familyForNtVersion, knownOnlyTo, type KbFamily, type KnowledgeBase } from '../knowledge/knowledge-base';
import type { IncompleteCause } from './causes';
import { cbsOwnVerdict, factClaim, filesListing } from './inventory/host-facts';
import type { FactClaim, HostInventory, InferredFrom, InventoryConflict, OverruledInstalledClaim } from './types';

/**
 * What the host already has, as far as its inventory can be believed: the family its NT
 * version belongs to, the installed updates (less the claims that contradict the host's other
 * facts), service pack, build, and SHA-2 state.
 */

export interface Baseline {
  installed: Set<string>;
  servicePack: number | null;
  build: number | null;
  revision: number | null;
  sha2Installed: boolean;
  sha2Active: boolean;
  pendingReboot: boolean;
  /**
   * the updates in `installed` that no list or CBS names on the host, counted from another of its
   * facts (the service pack level, the servicing stack version, the SHA-2 registry values), with that fact
   */
  inferred: Map<string, InferredFrom>;
  /**
   * the updates such a fact would have counted as installed that a CBS section lists in a state not
   * on the host: not counted (CBS is the host's own record; the registry values and the stack version
   * can be left by an install that was rolled back or did not complete)
   */
  overruled: OverruledInstalledClaim[];
}

/** What planInstall collects on its way: causes of incompleteness and assumptions. */
export interface PlanNotes {
  incomplete: IncompleteCause[];
  assumptions: string[];
}

export function resolveFamily(host: HostInventory, kb: KnowledgeBase, notes: PlanNotes): KbFamily | null {
  if (host.ntVersion !== null) {
    const f = familyForNtVersion(kb, host.ntVersion);
    if (!f) notes.incomplete.push({ kind: 'unknown-family', ntVersion: host.ntVersion });
    return f;
  }
  // only an installed-update list: the KBs it names may identify the family
  const matches = kb.families.filter((f) => host.installed.some((k) => knownOnlyTo(kb, f, k)));
  if (matches.length === 1) {
    notes.assumptions.push(`NT version not reported; assumed ${matches[0].ntVersion} because installed updates are ${matches[0].family} updates`);
    return matches[0];
  }
  notes.incomplete.push({ kind: 'family-not-inferable' });
  return null;
}

/**
 * Installed-update claims that contradict another fact of the host: an update that moves the build
 * past the build the host reports, an update of a service pack level the host says it lacks.
 * Returns the conflicts and the installed set that is still believed: a KB listed only by files
 * that made a contradicting claim is not believed either (such a file is no witness).
 */
export function checkInstalledClaims(host: HostInventory, family: KbFamily): { conflicts: InventoryConflict[]; believed: Set<string>; doubted: string[] } {
  const conflicts: InventoryConflict[] = [];
  const contradicting = new Set<string>();
  const listedBy = filesListing(host.evidence);
  // one pass over the installed list for both facts (a host lists hundreds of KBs; only those the
  // knowledge base knows can imply anything)
  const buildClaims: FactClaim[] = [];
  const servicePackClaims: FactClaim[] = [];
  // a claim the host's hotfix lists dispute (not believed either way) still contradicts the facts it
  // implies: the files are of another host or another time, which the conflict says plainly
  const disputed = (host.overruled ?? []).flatMap((o) => (o.by === 'lists' ? [o.kb] : []));
  for (const kb of disputed.length === 0 ? host.installed : [...host.installed, ...disputed]) {
    const f = family.updates.get(kb);
    if (f === undefined) continue;
    if (host.build !== null && f.setsBuild !== null && f.setsBuild > host.build) {
      contradicting.add(kb);
      buildClaims.push({ claim: { kind: 'installed', kb, implies: { fact: 'build', value: f.setsBuild } }, files: [...listedBy(kb)] });
    }
    // every update of the family applies from its minimum service pack on; a service pack implies its own level
    const implied = f.bringsServicePack ?? (f.role === 'service-pack' ? null : family.minimumServicePack);
    if (host.servicePack !== null && implied !== null && implied > host.servicePack) {
      contradicting.add(kb);
      servicePackClaims.push({ claim: { kind: 'installed', kb, implies: { fact: 'servicePack', value: implied } }, files: [...listedBy(kb)] });
    }
  }
  if (buildClaims.length > 0) conflicts.push({ fact: 'build', claims: [factClaim(host.evidence, 'build', host.build!), ...buildClaims] });
  if (servicePackClaims.length > 0) conflicts.push({ fact: 'servicePack', claims: [factClaim(host.evidence, 'servicePack', host.servicePack!), ...servicePackClaims] });
  // nothing contradicts: every listed KB is believed (most hosts of a consistent inventory)
  if (contradicting.size === 0) return { conflicts, believed: new Set(host.installed), doubted: [] };
  const badFiles = new Set([...contradicting].flatMap(listedBy));
  const believed = new Set<string>();
  const doubted: string[] = [];
  for (const kb of host.installed) {
    const by = listedBy(kb);
    const witnessed = by.length === 0 ? !contradicting.has(kb) : by.some((f) => !badFiles.has(f));
    if (witnessed) believed.add(kb);
    else doubted.push(kb);
  }
  return { conflicts, believed, doubted };
}

export interface StackVersion {
  version: string;
  /** where the version comes from, for the plan's assumptions */
  from: string;
}

/**
 * The servicing stack version each SSU brings: from the payload's own signed package manifests where the
 * catalog holds it (for the host's architecture), else from the knowledge base.
 */
export function servicingStackVersions(architecture: HostInventory['architecture'], payloads: readonly Payload[], family: KbFamily): Map<string, StackVersion> {
  const versions = new Map<string, StackVersion>();
  for (const p of payloads) {
    if (p.ntVersion !== family.ntVersion || !p.servicingStackVersion || versions.has(p.kb)) continue;
    // only a servicing stack update is wholly present when the stack is: a package that also carries
    // stack files (a SHA-2 update, say) brings other components too
    if ((family.updates.get(p.kb)?.role ?? p.kind) !== 'servicing-stack') continue;
    if (architecture !== null && p.architecture !== architecture && p.architecture !== 'neutral') continue;
    versions.set(p.kb, { version: p.servicingStackVersion, from: `the signed package manifests of ${p.fileName}` });
  }
  for (const f of family.updates.values()) {
    if (f.servicingStackVersion !== null && !versions.has(f.kb)) versions.set(f.kb, { version: f.servicingStackVersion, from: 'the knowledge base' });
  }
  return versions;
}

/**
 * `stackVersions` gives servicingStackVersions for the host's architecture (the planner keeps them
 * per run). `believed` becomes the baseline's installed set, with what else the host's facts
 * imply added to it (no copy: a host lists hundreds of KBs; the caller is done with it).
 */
export function hostBaseline(host: HostInventory, believed: Set<string>, family: KbFamily, stackVersions: () => Map<string, StackVersion>, notes: PlanNotes): Baseline {
  const installed = believed;
  const inferred = new Map<string, InferredFrom>();
  const overruled: OverruledInstalledClaim[] = [];
  const listedBy = filesListing(host.evidence);
  // counts `kb` as installed from `from`, unless a CBS section lists a package of it in a state not on
  // the host: then it is recorded as overruled, as a hotfix list's claim is (inventory/host-facts.ts)
  const infer = (kb: string, from: InferredFrom): boolean => {
    const cbs = cbsOwnVerdict(kb, host.evidence);
    if (cbs !== null && cbs.verdict === 'not-on-host') {
      overruled.push({ by: 'cbs', kb, listedBy: [...listedBy(kb)], cbsFile: cbs.cbsFile, package: 'kb', state: cbs.state, inferredFrom: from });
      return false;
    }
    installed.add(kb);
    inferred.set(kb, from);
    return true;
  };
  let servicePack = host.servicePack;
  if (servicePack === null) {
    servicePack = family.minimumServicePack;
    if (!installed.has(family.minimumServicePackKb)) notes.assumptions.push(`service pack level not reported; assumed service pack ${family.minimumServicePack} (${family.minimumServicePackKb})`);
  }
  // a service pack never shows in the hotfix list: the reported level stands for its KB
  for (const f of family.updates.values()) {
    if (f.bringsServicePack === null || f.bringsServicePack > servicePack || installed.has(f.kb)) continue;
    // a level assumed, not reported, is an assumption of its own (above), not the host's fact
    if (host.servicePack === null) installed.add(f.kb);
    else infer(f.kb, { fact: 'servicePack', value: host.servicePack });
  }
  // the servicing stack's own version stands for the SSU that brought it, even if the hotfix list misses it
  if (host.servicingStackVersion !== null) {
    for (const [kb, ssu] of stackVersions()) {
      if (installed.has(kb)) continue;
      if (compareDottedVersions(host.servicingStackVersion, ssu.version) >= 0 && infer(kb, { fact: 'servicingStackVersion', value: host.servicingStackVersion, brings: ssu.version })) {
        notes.assumptions.push(`${kb} counted as installed: the servicing stack reports version ${host.servicingStackVersion}, and ${kb} brings ${ssu.version} (from ${ssu.from})`);
      }
    }
  }
  // the SHA-2 registry values are written by the SHA-2 support update itself
  if (host.sha2CodeSigning === true && !installed.has(family.sha2SupportKb) && infer(family.sha2SupportKb, { fact: 'sha2CodeSigning', value: true })) {
    notes.assumptions.push(`${family.sha2SupportKb} counted as installed: the host reports SHA-2 code signing support active`);
  }
  let build = host.build;
  if (build === null) {
    const spBuild = family.updates.get(family.minimumServicePackKb)?.setsBuild ?? null;
    const known = [...installed].map((k) => family.updates.get(k)?.setsBuild ?? null).filter((b): b is number => b !== null);
    build = known.length > 0 ? Math.max(...known) : spBuild;
    if (build !== null) notes.assumptions.push(`build not reported; assumed ${build} from the service pack and installed updates`);
  }
  const sha2Installed = installed.has(family.sha2SupportKb);
  let sha2Active = false;
  if (sha2Installed) {
    if (host.sha2CodeSigning === true) sha2Active = true;
    else if (host.sha2CodeSigning === false || host.pendingReboot === true) sha2Active = false;
    else {
      sha2Active = true;
      notes.assumptions.push(`${family.sha2SupportKb} is installed and the inventory does not say whether a restart is pending; assumed the host has restarted since, so SHA-2 code signing support is active`);
    }
  }
  if (host.pendingReboot === null) notes.assumptions.push('pending-reboot state not reported; assumed no restart is pending');
  if (host.architecture === null) notes.assumptions.push('architecture not reported: only architecture-neutral payloads can be planned; add systeminfo output for this host');
  if (host.product === null) notes.assumptions.push(`product not reported; assumed any ${family.products.join(' / ')} edition`);
  const pendingReboot = host.pendingReboot === true || (sha2Installed && !sha2Active);
  return { installed, servicePack, build, revision: host.revision, sha2Installed, sha2Active, pendingReboot, inferred, overruled };
}
