import type { LabelSelectorSpec } from '../api/meta.ts';
import { configError, type ObjectRef } from './errors.ts';
import { compareText, firstIndexes } from './names.ts';
import type { ConfigError, LabelSelector, LabelSelectorRequirement } from './types.ts';

/**
 * Label selectors (metav1.LabelSelector): validation with Kubernetes' rules for keys and
 * values, matching, and a canonical key to find duplicates.
 */

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** Why a label key is invalid, or undefined when it is valid (`[prefix/]name`). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key "${key}" has an invalid prefix "${prefix}" (expected a DNS subdomain such as example.com)`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `label key "${key}" is invalid (name part: 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Why a label value is invalid, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `label value "${value}" is invalid (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/**
 * Validates a user-written selector; pushes one error per problem (fields under `field`) and
 * returns the validated selector, or undefined when it has errors.
 */
export function validateSelector(
  spec: LabelSelectorSpec,
  ref: ObjectRef,
  field: string,
  errors: ConfigError[],
): LabelSelector | undefined {
  const before = errors.length;
  const matchLabels: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.matchLabels ?? {})) {
    const problem =
      labelKeyProblem(key) ??
      (typeof value === 'string' ? labelValueProblem(value) : 'value is not a string');
    if (problem) errors.push(configError(ref, `${field}.matchLabels[${key}]`, problem));
    else matchLabels[key] = value;
  }
  const matchExpressions: LabelSelectorRequirement[] = [];
  (spec.matchExpressions ?? []).forEach((req, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    const keyProblem = labelKeyProblem(req.key ?? '');
    if (keyProblem) errors.push(configError(ref, `${at}.key`, keyProblem));
    if (!OPERATORS.includes(req.operator)) {
      errors.push(
        configError(
          ref,
          `${at}.operator`,
          `operator "${req.operator}" is not one of In, NotIn, Exists, DoesNotExist`,
        ),
      );
      return;
    }
    const values = req.values ?? [];
    if ((req.operator === 'In' || req.operator === 'NotIn') && values.length === 0) {
      errors.push(configError(ref, `${at}.values`, `operator ${req.operator} needs at least one value`));
    }
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && values.length > 0) {
      errors.push(configError(ref, `${at}.values`, `operator ${req.operator} takes no values`));
    }
    values.forEach((v, j) => {
      const problem = labelValueProblem(v);
      if (problem) errors.push(configError(ref, `${at}.values[${j}]`, problem));
    });
    matchExpressions.push({
      key: req.key,
      operator: req.operator as LabelSelectorRequirement['operator'],
      ...(values.length > 0 ? { values: [...values] } : {}),
    });
  });
  if (errors.length > before) return undefined;
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}

/**
 * Whether `labels` satisfy the selector (Kubernetes semantics: every matchLabels entry and
 * every expression must hold; an empty selector matches everything).
 */
export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(have, req.key);
    const value = have[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!present || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (present && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}

/** Whether any selector of the list matches; an empty list matches everything (MetalLB's rule). */
export function matchesAnySelector(
  selectors: readonly LabelSelector[],
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return selectors.length === 0 || selectors.some((s) => matchesSelector(s, labels));
}

/** A canonical text of a selector: equal for selectors that mean the same thing. */
export function selectorKey(selector: LabelSelectorSpec): string {
  const labels = Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => compareText(a, b));
  const expressions = (selector.matchExpressions ?? [])
    .map((e) => JSON.stringify([e.key, e.operator, [...(e.values ?? [])].sort()]))
    .sort();
  return JSON.stringify([labels, expressions]);
}

/**
 * Validates a list of selectors at `field` and reports duplicates (MetalLB's webhook rejects
 * them). Returns the valid selectors.
 */
export function validateSelectorList(
  specs: readonly LabelSelectorSpec[] | undefined,
  ref: ObjectRef,
  field: string,
  errors: ConfigError[],
): LabelSelector[] {
  const out: LabelSelector[] = [];
  const firstIndexOf = firstIndexes();
  (specs ?? []).forEach((spec, i) => {
    const at = `${field}[${i}]`;
    const first = firstIndexOf(selectorKey(spec), i);
    if (first !== undefined) {
      errors.push(configError(ref, at, `duplicate selector: same as ${field}[${first}]`));
      return;
    }
    const selector = validateSelector(spec, ref, at, errors);
    if (selector) out.push(selector);
  });
  return out;
}
