/**
 * A small, strict reader for the markup the reports write (HTML without optional end tags
 * omitted, and XML): enough to find elements by attribute, read their attributes and text,
 * and walk an XML tree, without a DOM library. It throws on mismatched tags, so it also
 * checks well-formedness.
 */

export interface Node {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: Node[];
  /** Text directly inside, entities decoded. */
  text: string;
}

const VOID_HTML = new Set([
  "meta",
  "br",
  "hr",
  "img",
  "input",
  "link",
  "col",
  "area",
  "base",
  "source",
  "wbr",
]);

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos|middot|rarr);/gi, (_, e: string) => {
    const named: Record<string, string> = {
      amp: "&",
      lt: "<",
      gt: ">",
      quot: '"',
      apos: "'",
      middot: "\u00b7",
      rarr: "\u2192",
    };
    if (e.startsWith("#x") || e.startsWith("#X")) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return named[e.toLowerCase()] ?? "";
  });
}

function parseAttrs(src: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'))?/g;
  for (const m of src.matchAll(re)) attrs[m[1] ?? ""] = decodeEntities(m[2] ?? m[3] ?? "");
  return attrs;
}

/** Element children only (no text nodes). */
export function elements(node: Node): Node[] {
  return node.children.filter((c) => c.name !== "#text");
}

const TOKEN =
  /<!--[\s\S]*?-->|<![^>]*>|<\?[\s\S]*?\?>|<\/([^\s>]+)\s*>|<([^\s/>]+)((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*)\s*(\/?)>|([^<]+)|</g;

function addText(top: Node, raw: string): void {
  const t = decodeEntities(raw);
  top.text += t;
  top.children.push({ name: "#text", attrs: {}, children: [], text: t });
}

/** Opens an element; returns where scanning resumes (past raw text for <style>). */
function open(doc: string, m: RegExpExecArray, stack: Node[], top: Node, html: boolean): number {
  const [whole, , name = "", attrSrc = "", selfClose] = m;
  const node: Node = { name, attrs: parseAttrs(attrSrc), children: [], text: "" };
  top.children.push(node);
  const after = m.index + whole.length;
  if (selfClose === "/" || (html && VOID_HTML.has(name.toLowerCase()))) return after;
  stack.push(node);
  if (!(html && name === "style")) return after;
  // Raw-text element: its content is not markup.
  const end = doc.indexOf("</style>", after);
  node.text = doc.slice(after, end);
  return end;
}

/** Parses a document into a tree under a synthetic "#root" node. Comments, doctype and PIs are skipped. */
export function parseMarkup(doc: string, html = false): Node {
  const root: Node = { name: "#root", attrs: {}, children: [], text: "" };
  const stack: Node[] = [root];
  const re = new RegExp(TOKEN.source, "g");
  for (let m = re.exec(doc); m !== null; m = re.exec(doc)) {
    const top = stack[stack.length - 1];
    if (!top) throw new Error("unbalanced markup");
    const [whole, close, name, , , text] = m;
    if (text !== undefined) addText(top, text);
    else if (close !== undefined) {
      if (top.name !== close) throw new Error(`</${close}> closes <${top.name}> at ${m.index}`);
      stack.pop();
    } else if (name !== undefined) re.lastIndex = open(doc, m, stack, top, html);
    else if (whole === "<") throw new Error(`stray "<" at ${m.index}: ${doc.slice(m.index, m.index + 40)}`);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]?.name}>`);
  return root;
}

export function* walk(node: Node): Generator<Node> {
  yield node;
  for (const c of node.children) yield* walk(c);
}

export function findAll(root: Node, pred: (n: Node) => boolean): Node[] {
  return [...walk(root)].filter(pred);
}

export function byId(root: Node, id: string): Node {
  const found = findAll(root, (n) => n.attrs.id === id);
  if (found.length !== 1) throw new Error(`expected one element with id ${id}, found ${found.length}`);
  return found[0];
}

/** All text inside a node, whitespace collapsed. */
export function textOf(node: Node): string {
  const parts: string[] = [];
  const visit = (n: Node): void => {
    if (n.name === "#text") parts.push(n.text);
    n.children.forEach(visit);
  };
  visit(node);
  return parts.join(" ").replace(/\s+/g, " ").trim();
}
