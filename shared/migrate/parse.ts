import { type Document, isScalar, LineCounter, parseAllDocuments, type Tags } from 'yaml';

/**
 * YAML as Kubernetes tools and MetalLB read it (go-yaml v2, YAML 1.1 scalars): `yes`/`no`/`on`/
 * `off` are booleans and `0777` is octal, but unlike YAML 1.1 proper there are no sexagesimal
 * numbers (`64512:30` stays a string) and timestamps stay strings.
 */
export const GO_YAML_OPTIONS = {
  version: '1.1',
  customTags: (tags: Tags) =>
    tags.filter((t) =>
      typeof t === 'string'
        ? !['intTime', 'floatTime', 'timestamp'].includes(t)
        : t.format !== 'TIME' && t.tag !== 'tag:yaml.org,2002:timestamp',
    ),
} as const;

/** One object of the input stream, before any interpretation. */
export interface SourceDocument {
  /** 1-based document index in the stream. */
  readonly document: number;
  /** 1-based line where the document (or the List item) starts. */
  readonly line: number;
  /** For an item of a `kind: List` document: `items[3]`. */
  readonly entry?: string;
  readonly value: unknown;
  /** For a ConfigMap whose `data.config` is a literal block: the line its text starts on. */
  readonly configLine?: number;
}

/** The input is not a readable YAML stream; `message` names the document and the problem. */
export class MigrateInputError extends Error {
  readonly code = 'MIGRATE_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'MigrateInputError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Splits a multi-document YAML stream into objects. Empty documents are ignored; `List`
 * documents (what `kubectl get -o yaml` prints for several objects) are flattened into their
 * items. A syntax error anywhere throws {@link MigrateInputError} naming the document and line:
 * converting the rest of a half-readable file would hide what was lost.
 */
export function parseManifestStream(text: string, sourceName: string): SourceDocument[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    ...GO_YAML_OPTIONS,
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
  });
  // An empty stream parses to an empty result, not a list.
  const list = Array.isArray(docs) ? docs : [];
  const out: SourceDocument[] = [];
  list.forEach((doc, i) => {
    const index = i + 1;
    const start = doc.contents?.range[0] ?? doc.range[0];
    const line = lineCounter.linePos(start).line;
    const error = doc.errors[0];
    if (error) {
      const at = lineCounter.linePos(error.pos[0]);
      throw new MigrateInputError(
        `${sourceName} document ${index} (line ${at.line}, column ${at.col}): YAML syntax error: ${firstLine(error.message)}`,
      );
    }
    let value: unknown;
    try {
      // Alias problems (an alias before its anchor, too many aliases) surface only here.
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      throw new MigrateInputError(
        `${sourceName} document ${index} (line ${line}): YAML error: ${firstLine(e instanceof Error ? e.message : String(e))}`,
      );
    }
    if (value === null || value === undefined) return;
    if (isRecord(value) && value.kind === 'List' && Array.isArray(value.items)) {
      const items = value.items as unknown[];
      const itemNodes = (doc.get('items', true) as { items?: { range?: [number, number, number] }[] })?.items;
      items.forEach((item, j) => {
        const itemStart = itemNodes?.[j]?.range?.[0];
        const configLine = blockLine(doc, ['items', j, 'data', 'config'], lineCounter);
        out.push({
          document: index,
          line: itemStart === undefined ? line : lineCounter.linePos(itemStart).line,
          entry: `items[${j}]`,
          value: item,
          ...(configLine === undefined ? {} : { configLine }),
        });
      });
      return;
    }
    const configLine = blockLine(doc, ['data', 'config'], lineCounter);
    out.push({ document: index, line, value, ...(configLine === undefined ? {} : { configLine }) });
  });
  return out;
}

/** The first content line of the literal block scalar at `path`, if that is what it is. */
function blockLine(
  doc: Document,
  path: readonly (string | number)[],
  lineCounter: LineCounter,
): number | undefined {
  const node = doc.getIn(path, true);
  if (!isScalar(node) || node.type !== 'BLOCK_LITERAL' || !node.range) return undefined;
  // The range starts at the `|` indicator; the text starts on the next line.
  return lineCounter.linePos(node.range[0]).line + 1;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
