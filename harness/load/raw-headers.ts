/**
 * One header's value read straight from undici's raw header list (name, value, name, value,
 * ...: Buffers over HTTP/1.1), as undici's own parseHeaders would give it: names compared
 * lower-cased, values decoded as latin1, the first of repeated headers. Reading only the
 * headers the outcome needs, instead of turning every header of every answer into an object
 * of strings, is most of what the handler API without parsed headers saves per request.
 *
 * @param name the header name in lower case
 */
export function rawHeaderValue(raw: readonly (Buffer | string)[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i];
    // A latin1 name has one character per byte, so only names of the same length can match.
    if (key.length !== name.length) continue;
    const text = typeof key === "string" ? key : key.toString("latin1");
    if (text.toLowerCase() !== name) continue;
    const value = raw[i + 1];
    return typeof value === "string" ? value : value.toString("latin1");
  }
  return undefined;
}
