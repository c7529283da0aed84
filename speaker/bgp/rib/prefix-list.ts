import { MAX_PREFIX_NLRI_OCTETS, parsePrefix, writePrefixNlri } from '../codec/index.ts';
import { EncodedPrefixMap } from './encoded-prefix-map.ts';

/** The first word of a prefix list that is not a prefix: its line (from 1) and what is wrong. */
export interface PrefixListError {
  readonly line: number;
  readonly message: string;
}

/**
 * Adds the prefixes of a list to `into`, each mapped to `value`: one prefix per line, or several
 * separated by commas or whitespace; `#` starts a comment that runs to the end of the line.
 * Returns the first word that is not a prefix, having added the prefixes before it (callers fill
 * a fresh map and drop it on error). An {@link EncodedPrefixMap} also gets each prefix's NLRI,
 * which the parsing computes anyway.
 *
 * A line that is exactly one prefix (an announce file of 100,000 lines, say) is checked by one
 * scan of its characters and sliced once, with no split, regular expression or array: the
 * speaker runs without V8's optimizing compilers. Other lines take the general path.
 */
export function addPrefixList<V>(text: string, into: Map<string, V>, value: V): PrefixListError | undefined {
  const encoded = into instanceof EncodedPrefixMap ? (into as EncodedPrefixMap<V>) : undefined;
  const scratch = new Uint8Array(MAX_PREFIX_NLRI_OCTETS);
  let line = 1;
  for (let at = 0; at < text.length; line++) {
    let eol = text.indexOf('\n', at);
    if (eol < 0) eol = text.length;
    const end = eol > at && text.charCodeAt(eol - 1) === 13 ? eol - 1 : eol; // CRLF
    let fast = false;
    if (end > at) {
      if (encoded) fast = encoded.addText(text, at, end, value);
      else if (writePrefixNlri(text, at, end, scratch, 0) > 0) {
        into.set(text.slice(at, end), value);
        fast = true;
      }
    }
    if (!fast) {
      const message = addWords(text.slice(at, eol), into, encoded, value);
      if (message !== undefined) return { line, message };
    }
    at = eol + 1;
  }
  return undefined;
}

/** The general path for one line: comment cut, words split, each parsed by the reference parser. */
function addWords<V>(
  line: string,
  into: Map<string, V>,
  encoded: EncodedPrefixMap<V> | undefined,
  value: V,
): string | undefined {
  const hash = line.indexOf('#');
  for (const word of (hash < 0 ? line : line.slice(0, hash)).split(/[\s,]+/)) {
    if (word === '') continue;
    let nlri: Uint8Array;
    try {
      nlri = parsePrefix(word).nlri;
    } catch (error) {
      return (error as Error).message;
    }
    if (encoded) encoded.addEncoded(word, value, nlri);
    else into.set(word, value);
  }
  return undefined;
}
