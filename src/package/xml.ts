import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { inputError } from '../errors';
import { decodeMetadataText } from './text';

/**
 * The one XML reader of src/package: servicing metadata (.mum, unattend .xml, _manifest_.cix.xml)
 * read as untrusted input. No DTD and no entity expansion (a DOCTYPE is refused outright, so a
 * "billion laughs" file never reaches the parser), bounded size, depth, element count and
 * attribute length, and a well-formedness check first so a truncated or hostile file produces
 * one clear error instead of a half-built tree.
 */

export interface XmlElement {
  /** local name (namespace prefix removed) */
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** concatenated text content directly inside this element, trimmed */
  text: string;
}

export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
  maxAttributeLength: number;
}

export const defaultXmlLimits: XmlLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxElements: 100_000,
  maxAttributeLength: 4096,
};

const parser = (maxDepth: number): XMLParser =>
  new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    removeNSPrefix: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    trimValues: true,
    maxNestedTags: maxDepth,
  });

const acceptedDeclaredEncodings = new Set(['utf-8', 'utf8', 'utf-16', 'utf-16le', 'us-ascii', 'ascii']);

/** Parse `bytes` (named `what` in errors) into an element tree; throws an input error on anything hostile or malformed. */
export function parseXml(bytes: Buffer, what: string, limits: Partial<XmlLimits> = {}): XmlElement {
  const lim = { ...defaultXmlLimits, ...limits };
  if (bytes.length > lim.maxBytes) {
    throw inputError('XML_TOO_LARGE', `${what} is ${bytes.length} bytes; the limit for this document is ${lim.maxBytes}`);
  }
  const { text } = decodeMetadataText(bytes, { what });
  checkDeclaration(text, what);
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw inputError('XML_DTD_FORBIDDEN', `${what} contains a DTD or entity declaration; servicing metadata never does, and it is not expanded`);
  }
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    throw inputError('XML_MALFORMED', `${what} is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  let ordered: unknown;
  try {
    ordered = parser(lim.maxDepth).parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/nested/i.test(msg)) throw inputError('XML_TOO_DEEP', `${what} nests elements deeper than ${lim.maxDepth} levels`);
    throw inputError('XML_MALFORMED', `${what} could not be parsed: ${msg}`);
  }
  const roots = convert(ordered, what, lim);
  if (roots.length !== 1) throw inputError('XML_MALFORMED', `${what} has ${roots.length} root elements; expected one`);
  return roots[0];
}

function checkDeclaration(text: string, what: string): void {
  const decl = /^\s*<\?xml\s[^?]*encoding\s*=\s*["']([^"']+)["']/i.exec(text);
  if (decl && !acceptedDeclaredEncodings.has(decl[1].toLowerCase())) {
    throw inputError('XML_UNSUPPORTED_ENCODING', `${what} declares encoding "${decl[1]}"; servicing metadata is UTF-8 or UTF-16`);
  }
}

type OrderedNode = Record<string, unknown>;

/** fast-xml-parser's preserveOrder output → XmlElement tree, with the element count and attribute caps applied. */
function convert(ordered: unknown, what: string, lim: XmlLimits): XmlElement[] {
  let elements = 0;
  const build = (nodes: unknown): XmlElement[] => {
    const out: XmlElement[] = [];
    if (!Array.isArray(nodes)) return out;
    for (const node of nodes as OrderedNode[]) {
      const name = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
      if (name === undefined) continue;
      if (++elements > lim.maxElements) {
        throw inputError('XML_TOO_MANY_ELEMENTS', `${what} has more than ${lim.maxElements} elements`);
      }
      const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
      const rawAttrs = (node[':@'] ?? {}) as Record<string, unknown>;
      for (const [key, value] of Object.entries(rawAttrs)) {
        const s = String(value);
        if (s.length > lim.maxAttributeLength) {
          throw inputError('XML_ATTRIBUTE_TOO_LONG', `${what}: attribute ${name}@${key} is ${s.length} characters; the limit is ${lim.maxAttributeLength}`);
        }
        attributes[key] = decodePredefinedEntities(s);
      }
      const childNodes = node[name] as unknown[];
      const text = (Array.isArray(childNodes) ? childNodes : [])
        .filter((c): c is { '#text': unknown } => typeof c === 'object' && c !== null && '#text' in c)
        .map((c) => decodePredefinedEntities(String(c['#text'])))
        .join('')
        .trim();
      out.push({ name, attributes, children: build(childNodes), text });
    }
    return out;
  };
  return build(ordered);
}

const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The five predefined entities and numeric character references: replaced in place, nothing ever expands. */
export function decodePredefinedEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return predefined[ref];
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** Direct children named `name` (case-insensitive: Microsoft tools are not consistent about case). */
export function childElements(parent: XmlElement, name: string): XmlElement[] {
  const lower = name.toLowerCase();
  return parent.children.filter((c) => c.name.toLowerCase() === lower);
}

export function firstChild(parent: XmlElement, name: string): XmlElement | undefined {
  return childElements(parent, name)[0];
}

/** Attribute by name, case-insensitively; undefined when absent or empty. */
export function attribute(element: XmlElement, name: string): string | undefined {
  if (name in element.attributes) return element.attributes[name] || undefined;
  const lower = name.toLowerCase();
  for (const key of Object.keys(element.attributes)) if (key.toLowerCase() === lower) return element.attributes[key] || undefined;
  return undefined;
}
