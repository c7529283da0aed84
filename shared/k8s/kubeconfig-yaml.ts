import { parse } from 'yaml';

/**
 * The YAML side of reading a kubeconfig, in a module of its own so that kubeconfig.ts can load
 * it (and the YAML parser) only for YAML files. A static import here, not `import('yaml')`
 * there: bundled, a dynamic import of the CommonJS package yields only its default export.
 */
export function parseKubeconfigYaml(text: string): unknown {
  return parse(text);
}
