import { inputError } from '../errors';
import type { AssemblyIdentity } from './types';
import { readAssemblyIdentity } from './mum';
import { attribute, childElements, firstChild, parseXml } from './xml';

/**
 * The unattend .xml inside an MSU (`urn:schemas-microsoft-com:unattend`): which package wusa
 * installs and from which cab. The `source location` names the payload cab of the MSU.
 */
export interface UnattendPackage {
  action: string | null;
  identity: AssemblyIdentity;
  /** "%configsetroot%\Windows6.1-KB2999226-x64.CAB" as written */
  sourceLocation: string | null;
  /** the file name part of sourceLocation ("Windows6.1-KB2999226-x64.CAB") */
  sourceFileName: string | null;
}

export function parseUnattend(bytes: Buffer, what = 'unattend .xml'): UnattendPackage[] {
  const root = parseXml(bytes, what, { maxBytes: 256 * 1024, maxDepth: 16, maxElements: 10_000 });
  if (root.name.toLowerCase() !== 'unattend') {
    throw inputError('UNATTEND_BAD_ROOT', `${what}: root element is <${root.name}>, expected <unattend>`);
  }
  const packages = childElements(root, 'servicing').flatMap((s) => childElements(s, 'package'));
  if (packages.length === 0) throw inputError('UNATTEND_NO_PACKAGE', `${what}: no <servicing><package> element`);
  return packages.map((pkg) => {
    const id = firstChild(pkg, 'assemblyIdentity');
    if (!id) throw inputError('UNATTEND_NO_IDENTITY', `${what}: <package> without <assemblyIdentity>`);
    const source = firstChild(pkg, 'source');
    const location = source ? attribute(source, 'location') ?? null : null;
    return {
      action: attribute(pkg, 'action') ?? null,
      identity: readAssemblyIdentity(id, what),
      sourceLocation: location,
      sourceFileName: location ? location.split(/[\\/]/).pop() || null : null,
    };
  });
}
