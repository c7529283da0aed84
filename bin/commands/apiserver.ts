import { Command } from 'commander';

/** `metalbeacon apiserver`: the embedded Kubernetes API server (test/apiserver). */
export function apiserverCommand(): Command {
  return new Command('apiserver')
    .description('run the embedded Kubernetes API server (for tests, the lab and demos; not for production)')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:6443')
    .option('--write-kubeconfig <file>', 'write a kubeconfig pointing at this server')
    .action(async () => {
      throw new Error('not implemented yet');
    });
}
