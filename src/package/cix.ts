import { inputError } from '../errors';
import { attribute, childElements, firstChild, parseXml, type XmlElement } from './xml';

/**
 * `_manifest_.cix.xml`, the container index of a payload cab (namespace urn:ContainerIndex).
 * Each `<File>` is a file of the installed package (id, name, length, hash of the final file);
 * its `<Delta><Source type="RAW|PA30" name="…"><Hash …/></Source>` says which cab member holds it
 * and the hash of that member's stored bytes, while a `<Basis file="id"/>` alone means the file is
 * derived from another one and has no member of its own. So the checkable claim is: every Source
 * names a member that exists, and that member's bytes hash to the Source hash.
 */
export interface ContainerIndex {
  name: string | null;
  files: ContainerFile[];
}

export interface ContainerFile {
  id: string;
  name: string;
  length: number;
  /** hash of the final (expanded) file */
  hash: ContainerHash | null;
  /** the cab member that stores it, when it is stored (RAW or PA30 delta) */
  source: { type: string; member: string; hash: ContainerHash | null } | null;
}

export interface ContainerHash {
  /** node:crypto name (sha1, sha256) */
  algorithm: string;
  hex: string;
}

const hashAlgorithms: Record<string, string> = { SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };

export function parseContainerIndex(bytes: Buffer, what = '_manifest_.cix.xml'): ContainerIndex {
  const root = parseXml(bytes, what, { maxBytes: 16 * 1024 * 1024, maxDepth: 16, maxElements: 500_000 });
  if (root.name !== 'Container') throw inputError('CIX_BAD_ROOT', `${what}: root element is <${root.name}>, expected <Container>`);
  const filesElement = firstChild(root, 'Files');
  const files = filesElement ? childElements(filesElement, 'File').map((f) => readFile(f, what)) : [];
  return { name: attribute(root, 'name') ?? null, files };
}

function readFile(file: XmlElement, what: string): ContainerFile {
  const id = attribute(file, 'id');
  const name = attribute(file, 'name');
  const length = Number(attribute(file, 'length'));
  if (!id || !name || !Number.isSafeInteger(length) || length < 0) {
    throw inputError('CIX_BAD_FILE', `${what}: <File> needs id, name and a length (id=${id ?? '?'})`);
  }
  const hashElement = firstChild(file, 'Hash');
  const sourceElement = firstChild(file, 'Delta') && firstChild(firstChild(file, 'Delta') as XmlElement, 'Source');
  let source: ContainerFile['source'] = null;
  if (sourceElement) {
    const member = attribute(sourceElement, 'name');
    if (!member) throw inputError('CIX_BAD_FILE', `${what}: <Source> of file ${id} has no name`);
    const sourceHash = firstChild(sourceElement, 'Hash');
    source = { type: attribute(sourceElement, 'type') ?? 'RAW', member, hash: sourceHash ? readHash(sourceHash, what) : null };
  }
  return { id, name, length, hash: hashElement ? readHash(hashElement, what) : null, source };
}

function readHash(element: XmlElement, what: string): ContainerHash {
  const alg = attribute(element, 'alg') ?? '';
  const algorithm = hashAlgorithms[alg.toUpperCase()];
  const hex = (attribute(element, 'value') ?? '').toLowerCase();
  if (!algorithm) throw inputError('CIX_BAD_HASH', `${what}: unsupported hash algorithm "${alg}"`);
  if (!/^[0-9a-f]+$/.test(hex) || hex.length !== { sha1: 40, sha256: 64, sha384: 96, sha512: 128 }[algorithm]) {
    throw inputError('CIX_BAD_HASH', `${what}: ${alg} hash "${hex.slice(0, 20)}" has the wrong form`);
  }
  return { algorithm, hex };
}
