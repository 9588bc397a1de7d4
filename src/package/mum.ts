import { inputError } from '../errors';
import type { AssemblyIdentity, ParentRequirement } from './types';
import { attribute, childElements, firstChild, parseXml, type XmlElement } from './xml';

/**
 * A servicing package manifest (update.mum and the other .mum files of a payload cab; asm.v3
 * schema, FORMATS.md §4). Only what the planner and the security team need is extracted: who the
 * package is, which KB, what kind of release, whether it restarts, which packages it requires
 * (`<parent>`) and which it contains.
 */
export interface PackageManifest {
  identity: AssemblyIdentity;
  /** package@identifier as written ("KB2999226", "KB2999226_BF") */
  identifier: string | null;
  /** the KB number alone ("KB2999226"), from the identifier, else from the identity name */
  kb: string | null;
  releaseType: string | null;
  restart: string | null;
  applicabilityEvaluation: string | null;
  description: string | null;
  displayName: string | null;
  company: string | null;
  supportInformation: string | null;
  creationTimeStamp: string | null;
  parents: ParentRequirement[];
  installerAssembly: AssemblyIdentity | null;
  /** every `<update>` of the package, with the packages and components it installs */
  updates: ManifestUpdate[];
}

export interface ManifestUpdate {
  name: string | null;
  /** child packages (`<package><assemblyIdentity/></package>`), e.g. Package_for_KB2999226_server */
  packages: AssemblyIdentity[];
  /** components (`<component>` / `<updateComponent>`), e.g. Microsoft-Windows-ServicingStack */
  components: AssemblyIdentity[];
}

const mumLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 32, maxElements: 200_000 };

/** Parse a .mum. `what` names it in errors ("update.mum in Windows6.0-KB2999226-x64.cab"). */
export function parsePackageManifest(bytes: Buffer, what = 'update.mum'): PackageManifest {
  const root = parseXml(bytes, what, mumLimits);
  if (root.name.toLowerCase() !== 'assembly') {
    throw inputError('MUM_NOT_ASSEMBLY', `${what}: root element is <${root.name}>, expected <assembly>`);
  }
  const identityElement = firstChild(root, 'assemblyIdentity');
  if (!identityElement) throw inputError('MUM_NO_IDENTITY', `${what}: <assembly> has no <assemblyIdentity>`);
  const identity = readAssemblyIdentity(identityElement, what);
  const pkg = firstChild(root, 'package');
  if (!pkg) throw inputError('MUM_NO_PACKAGE', `${what}: <assembly> has no <package> element; it is a component manifest, not a package`);

  const identifier = attribute(pkg, 'identifier') ?? null;
  const installer = firstChild(pkg, 'installerAssembly');
  return {
    identity,
    identifier,
    kb: kbFromText(identifier) ?? kbFromPackageName(identity.name),
    releaseType: attribute(pkg, 'releaseType') ?? null,
    restart: attribute(pkg, 'restart') ?? null,
    applicabilityEvaluation: attribute(pkg, 'applicabilityEvaluation') ?? null,
    description: attribute(root, 'description') ?? null,
    displayName: attribute(root, 'displayName') ?? null,
    company: attribute(root, 'company') ?? null,
    supportInformation: attribute(root, 'supportInformation') ?? null,
    creationTimeStamp: attribute(root, 'creationTimeStamp') ?? null,
    parents: childElements(pkg, 'parent').flatMap((p, group) => readParent(p, group, what)),
    installerAssembly: installer ? readAssemblyIdentity(installer, what) : null,
    updates: childElements(pkg, 'update').map((u) => readUpdate(u, what)),
  };
}

/** An assemblyIdentity (or installerAssembly, whose attributes are the same); `name` is required. */
export function readAssemblyIdentity(element: XmlElement, what: string): AssemblyIdentity {
  const name = attribute(element, 'name');
  if (!name) throw inputError('MUM_IDENTITY_NO_NAME', `${what}: <${element.name}> has no name attribute`);
  const identity: AssemblyIdentity = { name };
  for (const key of ['version', 'processorArchitecture', 'language', 'publicKeyToken', 'buildType', 'versionScope'] as const) {
    const value = attribute(element, key);
    if (value !== undefined) identity[key] = value;
  }
  if (identity.version !== undefined && !/^\d+(\.\d+){0,3}$/.test(identity.version)) {
    throw inputError('MUM_BAD_VERSION', `${what}: <${element.name} name="${name}"> has version "${identity.version}", expected a.b.c.d`);
  }
  return identity;
}

/**
 * `<parent>` may hold several identities (any one satisfies it); each becomes one requirement
 * carrying the parent's compare attributes and the parent's index as `group`, so the planner sees
 * "requires KB948465" directly and knows which requirements are alternatives.
 */
function readParent(parent: XmlElement, group: number, what: string): ParentRequirement[] {
  const identities = childElements(parent, 'assemblyIdentity');
  if (identities.length === 0) throw inputError('MUM_PARENT_EMPTY', `${what}: <parent> without <assemblyIdentity>`);
  return identities.map((element) => {
    const identity = readAssemblyIdentity(element, what);
    const requirement: ParentRequirement = { identity, kb: kbFromPackageName(identity.name), group };
    for (const key of ['disposition', 'integrate', 'buildCompare', 'serviceCompare', 'revisionCompare'] as const) {
      const value = attribute(parent, key);
      if (value !== undefined) requirement[key] = value;
    }
    return requirement;
  });
}

function readUpdate(update: XmlElement, what: string): ManifestUpdate {
  const packages: AssemblyIdentity[] = [];
  const components: AssemblyIdentity[] = [];
  // <update> holds <package>, <component>, or <applicable><updateComponent>; walk a bounded depth
  const visit = (element: XmlElement, depth: number): void => {
    if (depth > 4) return;
    for (const child of element.children) {
      const name = child.name.toLowerCase();
      const id = firstChild(child, 'assemblyIdentity');
      if (name === 'package' && id) packages.push(readAssemblyIdentity(id, what));
      else if ((name === 'component' || name === 'updatecomponent' || name === 'driver') && id) components.push(readAssemblyIdentity(id, what));
      else visit(child, depth + 1);
    }
  };
  visit(update, 0);
  return { name: attribute(update, 'name') ?? null, packages, components };
}

/** "KB2999226", "kb2999226_BF", "Fix for KB4474419" → "KB2999226" / "KB4474419". */
export function kbFromText(text: string | null | undefined): string | null {
  if (!text) return null;
  const m = /\bKB(\d{5,8})/i.exec(text);
  return m ? `KB${m[1]}` : null;
}

/** "Package_for_KB948465", "package_2_for_kb2999226_server" → "KB948465"; other names (Foundation, …) → null. */
export function kbFromPackageName(name: string): string | null {
  const m = /^package(?:_\d+)?_for_kb(\d{5,8})(?:[_~]|$)/i.exec(name);
  return m ? `KB${m[1]}` : null;
}
