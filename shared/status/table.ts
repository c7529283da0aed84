/**
 * A plain-text table in kubectl's look (upper-case headers, columns three spaces apart, no
 * borders) that fits a terminal width by shortening the columns marked `shrink` and cutting
 * their cells with an ellipsis. No terminal library: widths are counted in code points, which
 * is exact for the ASCII this project prints (names, IPs, states, numbers).
 */

/** One column of a table. */
export interface Column {
  readonly header: string;
  /** May be narrowed (cells cut with `…`) when the table is wider than the terminal. */
  readonly shrink?: boolean;
  /** Numbers read better aligned right. */
  readonly align?: 'left' | 'right';
}

/** Columns are this far apart, as in `kubectl get`. */
export const COLUMN_GAP = 3;

/** A shrinkable column keeps at least this many characters (or its header, if longer). */
const MIN_SHRUNK_WIDTH = 12;

const ELLIPSIS = '…';

/** Length in code points (what a terminal shows for the text this project prints). */
export function displayWidth(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** `text` cut to `width` code points, the last one replaced by `…` when cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  return [...text].slice(0, width - 1).join('') + ELLIPSIS;
}

/**
 * The column widths for `width` characters: the natural widths when they fit, else the
 * shrinkable columns narrowed, widest first, never below their minimum. The result may still
 * exceed `width` when nothing more can shrink (lines then wrap in the terminal, as kubectl's do).
 */
export function fitColumns(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  width: number,
): number[] {
  const widths = columns.map((c, i) =>
    Math.max(displayWidth(c.header), ...rows.map((r) => displayWidth(r[i] ?? ''))),
  );
  const total = (): number => widths.reduce((a, b) => a + b, 0) + COLUMN_GAP * Math.max(0, widths.length - 1);
  let excess = total() - width;
  while (excess > 0) {
    // The widest column that may still shrink gives up one character at a time, so the cut is
    // shared out evenly between wide columns instead of emptying one of them.
    let widest = -1;
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      const floor = Math.max(MIN_SHRUNK_WIDTH, displayWidth(column.header));
      if (column.shrink && widths[i]! > floor && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    }
    if (widest < 0) break;
    widths[widest]!--;
    excess--;
  }
  return widths;
}

/** Renders the table as lines without trailing spaces; `width` Infinity never cuts. */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  width = Number.POSITIVE_INFINITY,
): string[] {
  const widths = fitColumns(columns, rows, width);
  const line = (cells: readonly string[]): string =>
    columns
      .map((column, i) => {
        const w = widths[i]!;
        const text = truncate(cells[i] ?? '', w);
        const pad = ' '.repeat(w - displayWidth(text));
        return column.align === 'right' ? pad + text : text + pad;
      })
      .join(' '.repeat(COLUMN_GAP))
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...rows.map(line)];
}

/**
 * Splits `text` into lines of at most `width` code points at spaces, continuing lines with
 * `indent`; a word longer than a line is cut across lines rather than overflowing.
 */
export function wrapText(text: string, width: number, indent = ''): string[] {
  if (!Number.isFinite(width) || displayWidth(text) <= width) return [text];
  const lines: string[] = [];
  let current = '';
  const room = (): number => width - (lines.length === 0 ? 0 : displayWidth(indent));
  for (const word of text.split(' ')) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (displayWidth(candidate) <= room()) {
      current = candidate;
      continue;
    }
    if (current !== '') {
      lines.push(current);
      current = '';
    }
    let rest = word;
    while (displayWidth(rest) > room() && room() > 0) {
      const r = room();
      const chars = [...rest];
      lines.push(chars.slice(0, r).join(''));
      rest = chars.slice(r).join('');
    }
    current = rest;
  }
  if (current !== '') lines.push(current);
  return lines.map((l, i) => (i === 0 ? l : indent + l));
}
