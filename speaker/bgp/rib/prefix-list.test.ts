import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePrefix } from '../codec/index.ts';
import { addPrefixList } from './prefix-list.ts';

function read(text: string): { prefixes: string[]; error?: { line: number; message: string } } {
  const into = new Map<string, number>();
  const error = addPrefixList(text, into, 1);
  return { prefixes: [...into.keys()], ...(error ? { error } : {}) };
}

/** The list read the plain way: lines, comments cut, words split, each checked by the reference. */
function plainRead(text: string): { prefixes: string[]; error?: { line: number; message: string } } {
  const prefixes = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const hash = line.indexOf('#');
    for (const word of (hash < 0 ? line : line.slice(0, hash)).split(/[\s,]+/)) {
      if (word === '') continue;
      try {
        parsePrefix(word);
      } catch (error) {
        return { prefixes: [...prefixes], error: { line: i + 1, message: (error as Error).message } };
      }
      prefixes.add(word);
    }
  }
  return { prefixes: [...prefixes] };
}

describe('addPrefixList', () => {
  it('reads one prefix per line, CRLF, comments, blank lines, and several words per line', () => {
    assert.deepStrictEqual(
      read(
        '# pool\r\n198.51.100.1/32\r\n\n2001:db8:100::/120  # one\n198.51.100.2/32, 2001:db8::/64\t198.51.100.0/24',
      ),
      {
        prefixes: [
          '198.51.100.1/32',
          '2001:db8:100::/120',
          '198.51.100.2/32',
          '2001:db8::/64',
          '198.51.100.0/24',
        ],
      },
    );
    assert.deepStrictEqual(read(''), { prefixes: [] });
    assert.deepStrictEqual(read('\n\n#\n'), { prefixes: [] });
  });

  it('keeps each prefix once, in first-seen order, every one mapped to the value', () => {
    const into = new Map<string, string>();
    assert.equal(addPrefixList('2001:db8::/64\n198.51.100.0/24\n2001:db8::/64\n', into, 'v'), undefined);
    assert.deepStrictEqual(
      [...into],
      [
        ['2001:db8::/64', 'v'],
        ['198.51.100.0/24', 'v'],
      ],
    );
  });

  it('names the line and the reason of the first bad word, on the fast and the general path', () => {
    assert.deepStrictEqual(read('198.51.100.0/24\n198.51.100.1/24\n2001:db8::/64\n'), {
      prefixes: ['198.51.100.0/24'],
      error: { line: 2, message: 'prefix "198.51.100.1/24": host bits are set (not a network address)' },
    });
    assert.deepStrictEqual(read('2001:db8::/64 # fine\n2001:db8::/64, nope # not fine\n').error, {
      line: 2,
      message: 'prefix "nope": missing "/length"',
    });
    assert.match(read('\u{1F600}/8').error!.message, /is not an IP address/);
    assert.match(read('2001:db8::/64\u0660').error!.message, /length must be 0\.\.128/);
  });

  it('takes the spellings the fast path leaves to the reference', () => {
    assert.deepStrictEqual(read('::ffff:192.0.2.0/120\n').prefixes, ['::ffff:192.0.2.0/120']);
  });

  it('a long line without a newline is one bad word, not a crash or a quadratic scan', () => {
    const error = read('1'.repeat(1_000_000)).error!;
    assert.equal(error.line, 1);
    assert.match(error.message, /missing "\/length"/);
  });

  it('property: reads any list as the plain line-and-word reader does', () => {
    const prefix = fc.constantFrom(
      '198.51.100.0/24',
      '198.51.100.7/32',
      '2001:db8::/64',
      '2001:DB8:0:1::/64',
      '2001:db8:0:1::10/128',
      '::/0',
      '::ffff:192.0.2.0/120',
      '2001:db8::1/64',
      '198.51.100.1/24',
      'x',
    );
    const separator = fc.constantFrom('\n', '\r\n', ' ', ',', ', ', '\t', ' # c\n', '#\n', '\n\n');
    const list = fc
      .array(fc.tuple(prefix, separator), { maxLength: 30, size: 'max' })
      .map((parts) => parts.map(([p, s]) => p + s).join(''));
    fc.assert(
      fc.property(list, (text) => {
        assert.deepStrictEqual(read(text), plainRead(text));
      }),
      { numRuns: 2000 },
    );
  });
});
