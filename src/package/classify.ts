import { highestDottedVersion, isDottedVersion } from './assembly-version';
import type { PackageManifest } from './mum';
import type { PayloadKind } from './types';

/**
 * What role a payload plays in the install sequence. Unambiguous signals from the verified
 * metadata win (a "Service Pack" release, a package that updates the servicing stack itself);
 * then the knowledge base's role for the KB (catalog/kb/*.json, Microsoft's own KB articles);
 * then the title wording Microsoft uses for each role; then the releaseType.
 */

export interface KindEvidence {
  manifest: PackageManifest;
  /** role from the knowledge base, when it knows the KB */
  knownRole: PayloadKind | null;
  /** title, from the knowledge base or the package description */
  title: string | null;
  /** pkgProperties "Package Type" */
  packageType: string | null;
}

export interface KindDecision {
  kind: PayloadKind;
  /** which evidence decided, for `inspect` output and audit */
  basis: string;
}

const servicingStackComponent = /^Microsoft-Windows-ServicingStack$/i;

/**
 * The servicing stack version a package brings: a host whose stack reports this version (or a
 * later one) has what the package installs, whether or not its hotfix list names the KB.
 */
export function servicingStackVersionOf(manifests: readonly PackageManifest[]): string | null {
  return highestDottedVersion(
    manifests
      .flatMap((m) => m.updates.flatMap((u) => u.components))
      .filter((c) => servicingStackComponent.test(c.name) && c.version !== undefined && isDottedVersion(c.version))
      .map((c) => c.version!),
  );
}

const titleRules: [RegExp, PayloadKind][] = [
  [/servicing stack/i, 'servicing-stack'],
  [/sha-?2 code[- ]signing/i, 'sha2-support'],
  [/preview of (the )?monthly (quality )?rollup/i, 'rollup-preview'],
  [/security only/i, 'security-only'],
  [/monthly (quality )?rollup/i, 'monthly-rollup'],
  [/extended security updates? .*(licen[cs]|prepar)/i, 'esu-preparation'],
  [/service pack \d/i, 'service-pack'],
];

export function classifyPayload(evidence: KindEvidence): KindDecision {
  const { manifest } = evidence;
  const releaseType = manifest.releaseType?.toLowerCase() ?? '';
  if (releaseType === 'service pack') return { kind: 'service-pack', basis: 'update.mum releaseType "Service Pack"' };
  const updatesServicingStack = manifest.updates.some((u) => u.components.some((c) => servicingStackComponent.test(c.name)));
  if (updatesServicingStack) return { kind: 'servicing-stack', basis: 'update.mum updates the Microsoft-Windows-ServicingStack component' };
  if (evidence.knownRole !== null && evidence.knownRole !== 'other') {
    return { kind: evidence.knownRole, basis: `knowledge base role for ${manifest.kb ?? 'this KB'}` };
  }
  if (evidence.title) {
    for (const [pattern, kind] of titleRules) if (pattern.test(evidence.title)) return { kind, basis: `title "${evidence.title}"` };
  }
  const type = releaseType || (evidence.packageType?.toLowerCase() ?? '');
  switch (type) {
    case 'security update':
      return { kind: 'security-update', basis: 'releaseType "Security Update"' };
    case 'hotfix':
      return { kind: 'hotfix', basis: 'releaseType "Hotfix"' };
    case 'update':
    case 'critical update':
    case 'feature pack':
      return { kind: 'update', basis: `releaseType "${manifest.releaseType ?? evidence.packageType}"` };
    default:
      return { kind: 'other', basis: type ? `releaseType "${type}" has no role` : 'no releaseType' };
  }
}
