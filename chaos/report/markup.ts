/**
 * Escaping for the XML and HTML reports. Almost every string in a report can come from a broker or
 * client error message, so nothing is trusted: everything is escaped, and characters XML 1.0
 * forbids are dropped rather than letting one stray control byte make the whole JUnit file
 * unparseable (the CI would then show no tests at all, which reads as green on some dashboards).
 */

// The XML 1.0 Char production; anything outside it (NUL, most C0 controls, lone surrogates,
// U+FFFE/U+FFFF) makes a conforming parser reject the document, and HTML treats them as errors.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe as element text and as a quoted attribute value, in XML and in HTML. */
export function escapeMarkup(text: string): string {
  return text.replace(NOT_XML_CHAR, '').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

// Parsers normalise raw whitespace in attribute values to spaces; character references survive,
// so a multi-line failure message stays multi-line in the CI's test view.
export function xmlAttr(text: string): string {
  return escapeMarkup(text).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}
