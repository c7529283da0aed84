import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A ServiceAccount's credentials as the kubelet mounts them in a Pod at
 * /var/run/secrets/kubernetes.io/serviceaccount: `token`, `ca.crt` and `namespace`, one
 * file each. Every file is replaced by a rename, as the kubelet swaps its `..data` link, so a
 * program re-reading the token never sees half of one.
 */
export function writeServiceAccountMount(
  dir: string,
  files: { token: string; caPem: string; namespace: string },
): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  replaceFile(join(dir, 'ca.crt'), files.caPem);
  replaceFile(join(dir, 'namespace'), files.namespace);
  replaceFile(join(dir, 'token'), files.token);
}

/** Writes `file` anew in one step (a new file renamed over the old one). */
export function replaceFile(file: string, text: string): void {
  const next = `${file}.next`;
  writeFileSync(next, text, { mode: 0o600 });
  renameSync(next, file);
}
