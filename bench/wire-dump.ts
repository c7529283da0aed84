import type { LabDaemon } from '../lab/netns.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';

/** The wire probe's (bench/wire-probe.ts) latencies per IP since the last dump, which resets them. */
export async function dumpWire(wire: LabDaemon): Promise<Record<string, number[]>> {
  const dumpLines = () =>
    wire
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{"dump"'));
  const before = dumpLines().length;
  wire.child.stdin?.write('dump\n');
  await waitFor('wire dump', () => (dumpLines().length > before ? true : undefined));
  return (JSON.parse(dumpLines().at(-1) ?? '{"dump":{}}') as { dump: Record<string, number[]> }).dump;
}
