import { Command } from 'commander';

export interface ApiserverOptions {
  listen: string;
  writeKubeconfig?: string;
  apply: string[];
  dualStack?: boolean;
  allowUnauthenticatedNetworkAccess?: boolean;
  httpsListen?: string;
  serviceAccount: string[];
}

/** `metalbeacon apiserver`: the embedded Kubernetes API server (apiserver/). */
export function apiserverCommand(): Command {
  return new Command('apiserver')
    .description('run the embedded Kubernetes API server (for tests, the lab and demos; not for production)')
    .option(
      '--listen <host:port>',
      'address to listen on (port 0: any free port); loopback only unless --allow-unauthenticated-network-access',
      '127.0.0.1:6443',
    )
    .option(
      '--allow-unauthenticated-network-access',
      'let --listen be a non-loopback address: anyone who reaches the port controls this cluster (there is no authentication)',
    )
    .option('--write-kubeconfig <file>', 'write a kubeconfig pointing at this server')
    .option(
      '--apply <path>',
      'apply manifests from a file or directory at start (repeatable; CRDs go first)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--dual-stack', 'allocate dual-stack Service cluster IPs (IPv4 primary)')
    .option(
      '--https-listen <host:port>',
      'also serve HTTPS here with a CA made at start; every request there needs a ServiceAccount token (--service-account)',
    )
    .option(
      '--service-account <namespace/name=dir>',
      "write the ServiceAccount's in-cluster mount (token, ca.crt, namespace) into dir; needs --https-listen (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .action(async (options: ApiserverOptions, command: Command) => {
      const { runApiserver } = await import('./run-apiserver.ts');
      await runApiserver(options, command);
    });
}
