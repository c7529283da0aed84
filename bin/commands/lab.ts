import { Command, Option } from 'commander';
import { CliError } from '../../shared/cli/errors.ts';
import { isBundled } from '../../shared/runtime/entry-url.ts';

interface LabCliOptions {
  prefix: string;
  mode: 'l2' | 'bgp' | 'both';
  keep: boolean;
  failover: boolean;
}

/**
 * `metalbeacon lab [up|down]`: the demo on network namespaces (lab/demo.ts). The lab code
 * is imported only when the command runs.
 */
export function labCommand(): Command {
  return (
    new Command('lab')
      .description(
        'as root: build a LAN of network namespaces (client, 3 nodes, BIRD router), run the API server, controller ' +
          'and speakers, and show L2, BGP/ECMP (with BFD) and a live node failover in each mode from the client; "lab down" cleans up a crashed run',
      )
      .argument('[action]', 'up (default): run the demo; down: remove what a crashed or kept lab left', 'up')
      .addOption(new Option('--mode <mode>', 'what to show').choices(['l2', 'bgp', 'both']).default('both'))
      .option('--keep', 'keep the lab running after the report, for exploration (Ctrl-C removes it)', false)
      .option('--no-keep', 'remove the lab after the report (default)')
      .option('--no-failover', 'skip the link-cut failover demos')
      // Tests run the command beside other labs: another namespace prefix and run directory.
      .addOption(new Option('--prefix <name>', 'namespace name prefix').default('mb').hideHelp())
      .action(async (action: string, options: LabCliOptions) => {
        if (action !== 'up' && action !== 'down') {
          throw new CliError(`unknown lab action "${action}"`, {
            hint: 'use "metalbeacon lab" or "metalbeacon lab down"',
          });
        }
        const out = (line: string): void => {
          process.stdout.write(`${line}\n`);
        };
        if (isBundled(import.meta.url)) {
          // The image's bundle leaves the lab out: it drives ip, BIRD and namespaces on the host.
          throw new CliError('metalbeacon lab runs from a source checkout, not from the image', {
            hint: 'in a clone of the repository, as root: npm ci && npm run metalbeacon -- lab',
          });
        }
        const { checkLabPrerequisites } = await import('../../lab/prerequisites.ts');
        const demo = await import('../../lab/demo.ts');
        if (action === 'down') {
          if (process.getuid?.() !== 0) {
            throw new CliError('metalbeacon lab down needs root', {
              hint: 'run it as root: sudo npm run metalbeacon -- lab down',
            });
          }
          const done = await demo.labDown(options.prefix, out);
          out(done.length ? done.join('\n') : 'nothing to clean up');
          return;
        }
        const controller = new AbortController();
        let signals = 0;
        const onSignal = (signal: NodeJS.Signals): void => {
          signals++;
          if (signals === 1) out(`\n${signal}: stopping and removing the lab...`);
          else out('still cleaning up (namespaces, processes); please wait');
          controller.abort(new demo.LabInterrupted());
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          if (!/^[a-z][a-z0-9]{1,11}$/.test(options.prefix)) {
            throw new CliError(
              `--prefix ${options.prefix}: 2-12 lower-case letters/digits, starting with a letter`,
            );
          }
          await checkLabPrerequisites(out);
          out(
            `MetalBeacon lab: mode ${options.mode}; namespaces ${options.prefix}-*, removed on exit (Ctrl-C at any time)`,
          );
          const result = await demo.runLabDemo({
            mode: options.mode,
            keep: options.keep,
            failover: options.failover,
            out,
            signal: controller.signal,
            prefix: options.prefix,
          });
          const failed = [result.l2, result.bgp, result.failover, result.bgpFailover].includes('failed');
          if (failed)
            throw new CliError('some checks failed (see FAILED above)', {
              hint: 'metalbeacon lab --keep leaves the lab up to look into it',
            });
        } catch (error) {
          if (error instanceof demo.LabInterrupted) {
            throw new CliError('interrupted; the lab was removed', { exitCode: 130 });
          }
          throw error;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      })
  );
}
