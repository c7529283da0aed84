import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, oncePerScrape, Registry } from './metrics.ts';
import { collectProcessMetrics } from './process-metrics.ts';

describe('metrics', () => {
  it('registry.counter and registry.gauge declare a metric in that registry, labelled or not', async () => {
    const registry = new Registry();
    const requests = registry.counter('requests_total', 'requests by code', ['code']);
    const up = registry.gauge('up_bool', '1 while up');
    requests.inc({ code: 200 }, 2);
    up.set(1);
    const text = await registry.metrics();
    assert.match(text, /^# TYPE requests_total counter$/m);
    assert.match(text, /^requests_total\{code="200"\} 2$/m);
    assert.match(text, /^# TYPE up_bool gauge$/m);
    assert.match(text, /^up_bool 1$/m);
    assert.throws(() => requests.inc({ method: 'GET' } as never), /has no label "method"/);
    assert.throws(() => registry.gauge('up_bool', 'again'), /already registered/);
  });

  it('renders counters and gauges in the exposition format, unlabelled ones from 0', async () => {
    const registry = new Registry();
    const plain = new Counter({ name: 'plain_total', help: 'a plain counter', registers: [registry] });
    const byVerb = new Counter({
      name: 'writes_total',
      help: 'writes\nby verb',
      labelNames: ['verb', 'result'] as const,
      registers: [registry],
    });
    const level = new Gauge({
      name: 'level',
      help: 'a gauge',
      labelNames: ['q'] as const,
      registers: [registry],
    });
    assert.equal(
      await registry.metrics(),
      '# HELP plain_total a plain counter\n# TYPE plain_total counter\nplain_total 0\n\n' +
        '# HELP writes_total writes\\nby verb\n# TYPE writes_total counter\n\n' +
        '# HELP level a gauge\n# TYPE level gauge\n',
    );
    plain.inc();
    plain.inc(2.5);
    byVerb.inc({ verb: 'create', result: 'ok' });
    byVerb.inc({ verb: 'create', result: 'ok' }, 2);
    byVerb.inc({ verb: 'patch', result: 'conflict' });
    level.set({ q: 'say "hi"\\' }, 7);
    level.dec({ q: 'say "hi"\\' }, 2);
    level.inc({ q: 'b' });
    level.set({ q: 'c' }, Number.POSITIVE_INFINITY);
    const text = await registry.metrics();
    assert.match(text, /^plain_total 3\.5$/m);
    assert.match(text, /^writes_total\{verb="create",result="ok"\} 3$/m);
    assert.match(text, /^writes_total\{verb="patch",result="conflict"\} 1$/m);
    assert.match(text, /^level\{q="say \\"hi\\"\\\\"\} 5$/m);
    assert.match(text, /^level\{q="b"\} 1$/m);
    assert.match(text, /^level\{q="c"\} \+Inf$/m);
    byVerb.remove({ verb: 'create', result: 'ok' });
    assert.doesNotMatch(await registry.getSingleMetricAsString('writes_total'), /create/);
    plain.reset();
    assert.match(await registry.getSingleMetricAsString('plain_total'), /^plain_total 0$/m);
  });

  it('totals the values matching some labels, synchronously and without collect', () => {
    const byVerb = new Counter({ name: 'ops_total', help: 'ops', labelNames: ['verb', 'result'] as const });
    assert.equal(byVerb.total(), 0);
    byVerb.inc({ verb: 'create', result: 'ok' }, 2);
    byVerb.inc({ verb: 'create', result: 'conflict' });
    byVerb.inc({ verb: 'patch', result: 'ok' }, 4);
    assert.equal(byVerb.total(), 7);
    assert.equal(byVerb.total({ verb: 'create' }), 3);
    assert.equal(byVerb.total({ result: 'ok' }), 6);
    assert.equal(byVerb.total({ verb: 'patch', result: 'conflict' }), 0);
    let collected = 0;
    const level = new Gauge({
      name: 'level_now',
      help: 'a gauge',
      collect() {
        collected++;
      },
    });
    level.set(5);
    assert.equal(level.total(), 5);
    assert.equal(collected, 0);
  });

  it('refuses what Prometheus would: a shrinking counter, unknown labels, bad names, twice the same name', () => {
    const registry = new Registry();
    const c = new Counter({
      name: 'c_total',
      help: 'c',
      labelNames: ['peer'] as const,
      registers: [registry],
    });
    assert.throws(() => c.inc({ peer: 'a' }, -1), /counter c_total can only grow/);
    assert.throws(() => c.inc({ nope: 'x' } as never), /metric c_total has no label "nope" \(labels: peer\)/);
    assert.throws(() => new Gauge({ name: 'bad-name', help: 'x' }), /"bad-name" is not a Prometheus name/);
    assert.throws(
      () => new Gauge({ name: 'g', help: 'x', labelNames: ['le'] }),
      /"le" cannot be a label name/,
    );
    assert.throws(
      () => new Counter({ name: 'c_total', help: 'again', registers: [registry] }),
      /already registered/,
    );
  });

  it('runs collect callbacks (sync and async) before a scrape and before get()', async () => {
    const registry = new Registry();
    let reads = 0;
    const live = new Gauge<'peer'>({
      name: 'live',
      help: 'live',
      labelNames: ['peer'],
      registers: [registry],
      collect() {
        this.reset();
        this.set({ peer: 'p1' }, ++reads);
      },
    });
    new Counter({
      name: 'remote_total',
      help: 'remote',
      registers: [registry],
      async collect() {
        const value = await Promise.resolve(42);
        this.reset();
        this.inc(value);
      },
    });
    assert.match(await registry.metrics(), /^live\{peer="p1"\} 1$/m);
    assert.match(await registry.metrics(), /^remote_total 42$/m);
    assert.deepEqual((await live.get()).values, [{ labels: { peer: 'p1' }, value: 3 }]);
  });

  it('counts histogram observations into cumulative buckets with sum and count', async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'took_seconds', help: 'took', buckets: [1, 0.1], registers: [registry] });
    assert.doesNotMatch(await registry.metrics(), /took_seconds_count/);
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v);
    const text = await registry.metrics();
    assert.match(text, /^took_seconds_bucket\{le="0\.1"\} 2$/m);
    assert.match(text, /^took_seconds_bucket\{le="1"\} 3$/m);
    assert.match(text, /^took_seconds_bucket\{le="\+Inf"\} 4$/m);
    assert.match(text, /^took_seconds_sum 3\.65$/m);
    assert.match(text, /^took_seconds_count 4$/m);
    assert.throws(() => h.observe(Number.NaN), /needs a number/);
  });

  it('process metrics report this process', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const text = await registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const rss = value('process_resident_memory_bytes');
    assert.ok(rss > 10 * 2 ** 20 && rss < 4 * 2 ** 30, `RSS ${rss}`);
    assert.ok(value('nodejs_heap_size_used_bytes') <= value('nodejs_heap_size_total_bytes'));
    assert.ok(value('process_cpu_seconds_total') > 0);
    assert.ok(value('process_open_fds') >= 3);
    assert.ok(Math.abs(value('process_start_time_seconds') - (Date.now() / 1000 - process.uptime())) < 2);
    assert.match(text, /^nodejs_heap_space_size_used_bytes\{space="old"\} \d+$/m);
    assert.match(
      text,
      new RegExp(
        `^nodejs_version_info\\{version="${process.version}",major="\\d+",minor="\\d+",patch="\\d+"\\} 1$`,
        'm',
      ),
    );
    assert.match(text, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds \S+$/m);
  });
});

describe('oncePerScrape', () => {
  it('shares one read among the calls of a scrape, and reads again after holdMs', async () => {
    let reads = 0;
    const read = oncePerScrape(async () => ++reads, 20);
    assert.deepEqual(await Promise.all([read(), read(), read()]), [1, 1, 1]);
    assert.equal(await read(), 1, 'within holdMs of the read: the same result');
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(await read(), 2);
  });
});
