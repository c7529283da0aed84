import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { ApiError } from '../../apiserver/errors.ts';
import { ManifestError, readManifests } from '../../apiserver/manifests.ts';
import { startApiServer } from '../../apiserver/server.ts';
import { CliError } from '../../shared/cli/errors.ts';
import { isLoopbackIp } from '../../shared/net/ip.ts';
import type { GlobalOptions } from '../program.ts';
import type { ApiserverOptions } from './apiserver.ts';
import { commandLogger, listenOption } from './options.ts';

// What `metalbeacon apiserver` does, loaded only when it runs: the embedded API server and
// its schema validator stay out of the other programs' memory (the speaker's above all).

/**
 * The server answers every request without credentials as the cluster's administrator, so by
 * default it listens on loopback only: every address `host` stands for (a name may resolve to
 * several) must be a loopback address, and 0.0.0.0 / :: (every address) never is.
 */
async function refuseNetworkExposure(host: string, listen: string): Promise<void> {
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (error) {
    throw new CliError(`--listen ${listen}: cannot resolve ${host}: ${(error as Error).message}`);
  }
  const exposed = addresses.filter((a) => !isLoopbackIp(a));
  if (exposed.length === 0) return;
  throw new CliError(
    `--listen ${listen} is reachable from the network (${exposed.join(', ')}): the embedded API server has no authentication, so anyone who reaches it controls the cluster`,
    {
      hint: 'listen on loopback (--listen 127.0.0.1:6443), or accept that risk with --allow-unauthenticated-network-access',
    },
  );
}

/** `--service-account NAMESPACE/NAME=DIR`. */
function serviceAccountOption(value: string): { namespace: string; name: string; dir: string } {
  const match = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)=(.+)$/.exec(value);
  if (!match) {
    throw new CliError(`--service-account ${value}: expected NAMESPACE/NAME=DIR`, {
      hint: 'e.g. --service-account metalbeacon-system/speaker=/tmp/speaker-sa',
    });
  }
  return { namespace: match[1]!, name: match[2]!, dir: match[3]! };
}

/** Runs `metalbeacon apiserver` until SIGINT or SIGTERM (see apiserver.ts). */
export async function runApiserver(options: ApiserverOptions, command: Command): Promise<void> {
  const globals = command.optsWithGlobals<GlobalOptions & ApiserverOptions>();
  const log = commandLogger(globals, 'apiserver');
  // HOST:PORT or [v6]:PORT with a host (never every address); port 0 picks a free one.
  const { host, port } = listenOption('--listen', options.listen, { hostRequired: true });
  if (options.allowUnauthenticatedNetworkAccess) {
    log.warn(
      { listen: options.listen },
      'unauthenticated network access allowed: anyone who reaches this port controls the cluster',
    );
  } else {
    await refuseNetworkExposure(host!, options.listen);
  }
  const https = options.httpsListen
    ? listenOption('--https-listen', options.httpsListen, { hostRequired: true })
    : undefined;
  if (https && !options.allowUnauthenticatedNetworkAccess)
    await refuseNetworkExposure(https.host!, options.httpsListen!);
  const accounts = options.serviceAccount.map(serviceAccountOption);
  if (accounts.length > 0 && !https) {
    throw new CliError('--service-account needs --https-listen', {
      hint: "the mounts hold the HTTPS listener's CA: add --https-listen 127.0.0.1:6444",
    });
  }
  let manifests: ReturnType<typeof readManifests>;
  try {
    manifests = readManifests(options.apply);
  } catch (error) {
    if (error instanceof ManifestError) {
      throw new CliError(error.message, { hint: 'pass --apply with a YAML file or a directory of them' });
    }
    throw error;
  }
  let server: Awaited<ReturnType<typeof startApiServer>>;
  try {
    server = await startApiServer({
      host: host!,
      port,
      dualStack: options.dualStack ?? false,
      ...(https ? { https: { host: https.host!, port: https.port } } : {}),
      onRequest: (method, path, status) => log.debug({ method, path, status }, 'request'),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(`cannot listen on ${options.listen}: the address is already in use`, {
        hint: 'stop the other process or choose another port with --listen HOST:PORT (port 0 picks a free one)',
      });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new CliError(`cannot listen on ${options.listen}: ${(error as Error).message}`, {
        hint: 'use a local address such as 127.0.0.1 and a port above 1023',
      });
    }
    throw error;
  }
  try {
    const applied = server.applyObjects(manifests);
    for (const obj of applied) {
      const ref = `${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
      log.info({ kind: obj.kind, object: ref }, `applied ${obj.kind} ${ref}`);
    }
  } catch (error) {
    await server.stop();
    if (error instanceof ApiError) {
      throw new CliError(`applying manifests failed: ${error.message}`, {
        hint: 'fix the manifest (kubectl explain KIND.FIELD describes the fields)',
      });
    }
    throw error;
  }
  if (options.writeKubeconfig) server.writeKubeconfig(options.writeKubeconfig);
  for (const { namespace, name, dir } of accounts) {
    server.writeServiceAccountMount(dir, namespace, name);
    log.info(
      { serviceAccount: `${namespace}/${name}`, dir },
      `wrote the in-cluster mount of ${namespace}/${name} to ${dir}`,
    );
  }
  if (server.https)
    log.info({ url: server.https.url }, `serving HTTPS (ServiceAccount tokens only) on ${server.https.url}`);
  log.info(
    { url: server.url, kubeconfig: options.writeKubeconfig, dualStack: options.dualStack ?? false },
    `serving the Kubernetes API on ${server.url}`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.stop();
  log.flush();
}
