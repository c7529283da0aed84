import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Lab, LabDaemon, LabLink } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { startLan } from '../support/lan.ts';

// Three speakers' membership on a real LAN (network namespaces, IPv6 documentation
// addresses, default port 7951): a node whose link is cut is declared dead by the others
// and, seeing no peer and no API server, declares itself isolated; a SIGTERMed speaker
// leaves without being counted as failed. No timed assertions: waits end on events (the
// lab's wait bound only guards against a hang), checks are about what and in which order.

const script = fileURLToPath(new URL('./membership-node.ts', import.meta.url));
const names: readonly string[] = ['n1', 'n2', 'n3'];
const keyHex = randomBytes(32).toString('hex');
const address = (i: number) => `2001:db8:0:1::${11 + i}`;
const peers = names.map((name, i) => ({ name, address: address(i) }));

let lab: Lab;
let links: Record<string, LabLink>;
const daemons = new Map<string, LabDaemon>();

before(async () => {
  const members = names.map((name, i) => [name, { ipv4: `192.0.2.${11 + i}/24`, ipv6: `${address(i)}/64` }]);
  ({ lab, links } = await startLan('mbship', Object.fromEntries(members)));
  for (const name of names) {
    const daemon = lab.spawn(name, [process.execPath, script, JSON.stringify({ name, keyHex, peers })]);
    daemons.set(name, daemon);
  }
});
after(() => lab.destroy());

interface Line {
  event: string;
  alive?: string[];
  name?: string;
  shouldAnnounce?: boolean;
  reason?: string;
}

/** The JSON lines a node printed, from character offset `from` on. */
function lines(name: string, from = 0): Line[] {
  return daemons
    .get(name)!
    .output()
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

function waitForLine(name: string, match: (line: Line) => boolean, from = 0): Promise<Line> {
  return waitFor(`${name}: line after offset ${from}`, () => lines(name, from).find(match), {
    timeoutMs: 15_000,
  });
}

const aliveIs = (alive: readonly string[]) => (l: Line) => l.event === 'alive' && isSame(l.alive, alive);
const isSame = (a: readonly string[] | undefined, b: readonly string[]) =>
  a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
const mark = (name: string) => daemons.get(name)!.output().length;

test('speakers on a LAN see each other over IPv6', async () => {
  for (const name of names) await waitForLine(name, aliveIs(['n1', 'n2', 'n3']));
});

test('a cut link: the others declare it dead, it declares itself isolated, and it returns when restored', async () => {
  const before = new Map(names.map((n) => [n, mark(n)]));
  await lab.cutLink(links.n3!);
  for (const observer of ['n1', 'n2']) {
    await waitForLine(observer, (l) => l.event === 'peer-failed' && l.name === 'n3', before.get(observer));
    const now = await waitForLine(observer, aliveIs(['n1', 'n2']), before.get(observer));
    assert.equal(now.shouldAnnounce, true, `${observer} still sees a peer`);
  }
  const isolated = await waitForLine('n3', aliveIs(['n3']), before.get('n3'));
  assert.deepEqual(
    { shouldAnnounce: isolated.shouldAnnounce, reason: isolated.reason },
    {
      shouldAnnounce: false,
      reason: 'isolated',
    },
  );

  const cut = new Map(names.map((n) => [n, mark(n)]));
  await lab.restoreLink(links.n3!);
  for (const name of names) {
    const back = await waitForLine(name, aliveIs(['n1', 'n2', 'n3']), cut.get(name));
    assert.equal(back.shouldAnnounce, true);
  }
  // Before the cut nobody was ever taken for dead.
  for (const name of names) {
    const setup = daemons.get(name)!.output().slice(0, before.get(name));
    assert.doesNotMatch(setup, /peer-failed/, name);
  }
});

test('a SIGTERMed speaker leaves: the others drop it at once and count no failure', async () => {
  const before = new Map(names.map((n) => [n, mark(n)]));
  const leaving = daemons.get('n2')!;
  leaving.child.kill('SIGTERM');
  await waitForLine('n2', (l) => l.event === 'left', before.get('n2'));
  for (const observer of ['n1', 'n3']) {
    await waitForLine(observer, (l) => l.event === 'peer-left' && l.name === 'n2', before.get(observer));
    await waitForLine(observer, aliveIs(['n1', 'n3']), before.get(observer));
    assert.ok(!lines(observer, before.get(observer)).some((l) => l.event === 'peer-failed'));
  }
});
