/**
 * Escaping for everything a run record carries into a document. Record strings come from
 * users (scenario names, fault descriptions, error messages), so nothing from a record is
 * ever written raw.
 */

/**
 * Characters XML 1.0 cannot carry even when escaped (C0 controls other than tab, LF, CR;
 * lone surrogates; U+FFFE/U+FFFF). Replaced with U+FFFD so the document stays well formed.
 */
const INVALID_XML_CHARS =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML/XML element content and double- or single-quoted attribute values. */
export function escapeXml(value: string | number | boolean | null): string {
  if (value === null) return "";
  return String(value)
    .replace(INVALID_XML_CHARS, "\uFFFD")
    .replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** HTML and XML need the same five entities; the alias says which document is being written. */
export const escapeHtml = escapeXml;

/**
 * Escapes text for a Markdown table cell or list item (GitHub-flavoured): pipes would split
 * cells, newlines would end the row, and HTML or emphasis markers would be interpreted.
 */
export function escapeMarkdown(value: string): string {
  return value
    .replace(/\r?\n|\r/g, " ")
    .replace(/[\\`*_[\]<>|#~]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;");
}
