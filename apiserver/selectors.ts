import { badRequest } from './errors.ts';
import type { KubeObject } from './types.ts';

/**
 * Label and field selectors with the syntax of k8s.io/apimachinery/pkg/labels and /fields:
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a` (exists), `!a` (does not exist).
 */
export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

function checkKey(key: string, selector: string): string {
  if (!KEY.test(key))
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${selector}"`);
  return key;
}

/** Parses a labelSelector query parameter; throws 400 BadRequest on bad syntax. */
export function parseLabelSelector(selector: string): Requirement[] {
  return splitTopLevel(selector).map((part): Requirement => {
    const setMatch = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(part);
    if (setMatch) {
      const values = setMatch[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);
      return { key: checkKey(setMatch[1]!, selector), op: setMatch[2] as 'in' | 'notin', values };
    }
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (cmp) {
      return { key: checkKey(cmp[1]!, selector), op: cmp[2] === '!=' ? 'neq' : 'eq', value: cmp[3]!.trim() };
    }
    if (part.startsWith('!')) return { key: checkKey(part.slice(1).trim(), selector), op: 'notexists' };
    return { key: checkKey(part, selector), op: 'exists' };
  });
}

/** Field selectors support only =, == and != (like the real server). */
export function parseFieldSelector(selector: string): Requirement[] {
  return splitTopLevel(selector).map((part): Requirement => {
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!cmp) throw badRequest(`invalid field selector "${selector}": expected key=value or key!=value`);
    return { key: cmp[1]!, op: cmp[2] === '!=' ? 'neq' : 'eq', value: cmp[3]!.trim() };
  });
}

/** Does a set of key → value pairs satisfy every requirement? A missing key never equals. */
export function matches(requirements: Requirement[], get: (key: string) => string | undefined): boolean {
  return requirements.every((r) => {
    const v = get(r.key);
    switch (r.op) {
      case 'eq':
        return v === r.value;
      case 'neq':
        return v !== r.value;
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
      case 'exists':
        return v !== undefined;
      case 'notexists':
        return v === undefined;
    }
    return false;
  });
}

/** A compiled list filter for one request. */
export type ObjectFilter = (obj: KubeObject) => boolean;

/**
 * Builds the filter for a list or watch. Field selector keys other than the metadata ones must
 * be declared by the type, as the real server rejects unknown field labels with 400.
 */
export function compileFilter(
  labelSelector: string | undefined,
  fieldSelector: string | undefined,
  fieldGetters: Record<string, (obj: KubeObject) => string | undefined>,
  kind: string,
): ObjectFilter {
  const labels = labelSelector ? parseLabelSelector(labelSelector) : [];
  const fields = fieldSelector ? parseFieldSelector(fieldSelector) : [];
  const getters: Record<string, (obj: KubeObject) => string | undefined> = {
    'metadata.name': (o) => o.metadata.name,
    'metadata.namespace': (o) => o.metadata.namespace ?? '',
    ...fieldGetters,
  };
  for (const f of fields) {
    if (!getters[f.key]) {
      throw badRequest(`field label not supported: ${f.key} (for ${kind})`);
    }
  }
  return (obj) =>
    matches(labels, (k) => obj.metadata.labels?.[k]) && matches(fields, (k) => getters[k]?.(obj) ?? '');
}
