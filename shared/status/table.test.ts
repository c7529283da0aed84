import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { COLUMN_GAP, displayWidth, fitColumns, renderTable, truncate, wrapText } from './table.ts';

describe('renderTable', () => {
  const columns = [
    { header: 'Name' },
    { header: 'Note', shrink: true },
    { header: 'Count', align: 'right' as const },
  ];
  const rows = [
    ['alpha', 'a fairly long note about alpha', '7'],
    ['b', '', '12345'],
  ];

  it('draws upper-case headers, columns three spaces apart, numbers right-aligned, no trailing spaces', () => {
    assert.deepEqual(renderTable(columns, rows), [
      'NAME    NOTE                             COUNT',
      'alpha   a fairly long note about alpha       7',
      'b                                        12345',
    ]);
    assert.equal(COLUMN_GAP, 3);
  });

  it('narrows only shrinkable columns to fit, cutting cells with an ellipsis', () => {
    const lines = renderTable(columns, rows, 30);
    assert.deepEqual(lines, [
      'NAME    NOTE             COUNT',
      'alpha   a fairly long…       7',
      'b                        12345',
    ]);
    for (const line of lines) assert.ok(displayWidth(line) <= 30);
  });

  it('shares the cut between wide shrinkable columns and never goes below the minimum', () => {
    const wide = [
      { header: 'A', shrink: true },
      { header: 'B', shrink: true },
    ];
    const cells = [['x'.repeat(40), 'y'.repeat(20)]];
    assert.deepEqual(fitColumns(wide, cells, 43), [20, 20]);
    // Nothing can shrink below 12 characters: the table stays wider than asked.
    assert.deepEqual(fitColumns(wide, cells, 10), [12, 12]);
  });

  it('fits any width it can, and every cell is a prefix of the original or unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 50 })), { maxLength: 6 }),
        fc.integer({ min: 20, max: 120 }),
        (raw, width) => {
          const printable = raw.map((r) => r.map((c) => c.replace(/[^ -~]/g, 'x').trim() || 'z'));
          const cols = [{ header: 'Key' }, { header: 'Value', shrink: true }];
          const widths = fitColumns(cols, printable, width);
          const lines = renderTable(cols, printable, width);
          const minimum = widths[0]! + COLUMN_GAP + 12;
          for (const line of lines) assert.ok(displayWidth(line) <= Math.max(width, minimum), line);
          printable.forEach((row, i) => {
            const cell = lines[i + 1]!.slice(widths[0]! + COLUMN_GAP);
            if (cell.endsWith('…')) assert.ok(row[1]!.startsWith(cell.slice(0, -1)));
            else assert.equal(cell, row[1]!.trimEnd());
          });
        },
      ),
    );
  });
});

describe('truncate and wrapText', () => {
  it('truncate keeps short text and cuts long text to exactly the width', () => {
    assert.equal(truncate('abc', 3), 'abc');
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abcdef', 0), '');
  });

  it('wraps at spaces with an indent, cuts words longer than a line, leaves short text alone', () => {
    assert.deepEqual(wrapText('- one two three four', 10, '  '), ['- one two', '  three', '  four']);
    assert.deepEqual(wrapText('- abcdefghijklmnop', 8, '  '), ['-', '  abcdef', '  ghijkl', '  mnop']);
    assert.deepEqual(wrapText('short', 80), ['short']);
    assert.deepEqual(wrapText('x '.repeat(100).trim(), Number.POSITIVE_INFINITY), ['x '.repeat(100).trim()]);
  });

  it('every wrapped line fits and the words come back in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z0-9:/.-]{1,25}$/), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 5, max: 100 }),
        (words, width) => {
          const lines = wrapText(words.join(' '), width, '  ');
          for (const line of lines) assert.ok(displayWidth(line) <= width, `${line} > ${width}`);
          const joined = lines
            .map((l, i) => (i === 0 ? l : l.slice(2)))
            .join('\n')
            .replace(/\n/g, '');
          assert.equal(joined.replace(/ /g, ''), words.join(''));
        },
      ),
    );
  });
});
