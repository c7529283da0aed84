/**
 * The MetalBeacon programs a topology runs: the controller in the host namespace and a speaker
 * in each node namespace, each as its Pod would run (in-cluster over HTTPS with its own
 * ServiceAccount mount), logging JSON into the run directory. The chaos runner starts its
 * controller replicas with the same command.
 */
import { SERVICE_ACCOUNT_DIR_ENV } from '../shared/k8s/connection.ts';
import { metalbeaconEntry } from './entry.ts';
import { type Lab, type LabDaemon, waitForOutput } from './netns.ts';
import type { TopologyNode } from './node-services.ts';

/** The CLI entry point, run with this process's Node (24). */
export const METALBEACON_BIN = metalbeaconEntry();

/** V8 flags per daemon (see TopologyOptions.nodeFlags in topology.ts). */
export interface NodeFlags {
  readonly controller?: readonly string[];
  readonly speaker?: readonly string[];
}

/** The command line of a controller replica: JSON logs, metrics on a free loopback port. */
export function controllerCommand(nodeFlags: NodeFlags, extraArgs: readonly string[] = []): string[] {
  return [
    process.execPath,
    ...(nodeFlags.controller ?? []),
    METALBEACON_BIN,
    '--log-format',
    'json',
    'controller',
    '--metrics-listen',
    '127.0.0.1:0',
    ...extraArgs,
  ];
}

/** A Pod's environment: the API's Service address and its ServiceAccount mount. */
function inCluster(host: string, port: number, dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    KUBECONFIG: '',
    KUBERNETES_SERVICE_HOST: host,
    KUBERNETES_SERVICE_PORT: String(port),
    [SERVICE_ACCOUNT_DIR_ENV]: dir,
  };
}

/** Options of a speaker start (see Topology.startSpeaker). */
export interface SpeakerStart {
  readonly wait?: boolean;
  readonly timeoutMs?: number;
  readonly nodeArgs?: readonly string[];
}

/** Starts, stops and restarts the controller and the speakers of one topology. */
export class MetalBeaconDaemons {
  readonly #lab: Lab;
  readonly #runDir: string;
  readonly #nodeFlags: NodeFlags;
  readonly #node: (name: string) => TopologyNode;
  readonly #apiHttps: { host: string; port: number };
  readonly #controllerServiceAccountDir: string;
  /** node name -> the arguments of its last start, for restartSpeaker. */
  readonly #speakerArgs = new Map<string, { extraArgs: readonly string[]; nodeArgs: readonly string[] }>();
  #controller: LabDaemon | undefined;

  constructor(o: {
    lab: Lab;
    runDir: string;
    nodeFlags: NodeFlags;
    node: (name: string) => TopologyNode;
    apiHttps: { host: string; port: number };
    controllerServiceAccountDir: string;
  }) {
    this.#lab = o.lab;
    this.#runDir = o.runDir;
    this.#nodeFlags = o.nodeFlags;
    this.#node = o.node;
    this.#apiHttps = o.apiHttps;
    this.#controllerServiceAccountDir = o.controllerServiceAccountDir;
  }

  get controller(): LabDaemon | undefined {
    return this.#controller;
  }

  /** The controller Pod's environment: the API server's HTTPS address and its mount. */
  controllerEnv(): NodeJS.ProcessEnv {
    return inCluster(this.#apiHttps.host, this.#apiHttps.port, this.#controllerServiceAccountDir);
  }

  startController(extraArgs: readonly string[]): LabDaemon {
    if (this.#controller && this.#controller.child.exitCode === null)
      throw new Error('topology: the controller runs already');
    this.#controller = this.#lab.spawnHost(controllerCommand(this.#nodeFlags, extraArgs), {
      logFile: `${this.#runDir}/logs/controller.log`,
      env: this.controllerEnv(),
    });
    return this.#controller;
  }

  async stopController(signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
    await this.#controller?.kill(signal, graceMs);
  }

  async startSpeaker(name: string, extraArgs: readonly string[], options: SpeakerStart): Promise<LabDaemon> {
    const node = this.#node(name);
    if (node.speaker && node.speaker.child.exitCode === null && node.speaker.child.signalCode === null) {
      throw new Error(`topology: the speaker on ${name} runs already (pid ${node.speaker.pid})`);
    }
    const nodeArgs = options.nodeArgs ?? this.#nodeFlags.speaker ?? [];
    this.#speakerArgs.set(name, { extraArgs, nodeArgs });
    const speaker = this.#lab.spawn(
      name,
      [
        process.execPath,
        ...nodeArgs,
        METALBEACON_BIN,
        '--log-format',
        'json',
        'speaker',
        '--node-name',
        name,
        ...extraArgs,
      ],
      {
        logFile: `${this.#runDir}/logs/speaker-${name}.log`,
        // Through the node's relay to the HTTPS listener, as a Pod reaches the kubernetes Service.
        env: inCluster('127.0.0.1', 443, node.serviceAccountDir),
      },
    );
    node.speaker = speaker;
    if (options.wait !== false)
      await waitForOutput(speaker, /"msg":"speaker ready"/, options.timeoutMs ?? 30_000);
    return speaker;
  }

  async stopSpeaker(name: string, signal: NodeJS.Signals) {
    const node = this.#node(name);
    if (!node.speaker) throw new Error(`topology: no speaker was started on ${name}`);
    return node.speaker.kill(signal, 10_000);
  }

  async restartSpeaker(name: string): Promise<LabDaemon> {
    const node = this.#node(name);
    if (node.speaker) await node.speaker.kill('SIGTERM', 10_000);
    const args = this.#speakerArgs.get(name);
    return this.startSpeaker(name, args?.extraArgs ?? [], { nodeArgs: args?.nodeArgs ?? [] });
  }
}
