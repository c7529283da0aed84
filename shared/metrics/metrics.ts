/**
 * Prometheus metrics in the text exposition format (version 0.0.4): counters, gauges and
 * histograms with labels, on registries the programs own (no global one). Our own because
 * prom-client, with its dependencies, costs the speaker heap out of proportion to the few
 * calls MetalBeacon makes (README, Performance); the API follows prom-client's where MetalBeacon uses it.
 */

/** Label values by label name. */
export type Labels<L extends string> = Partial<Record<L, string | number>>;

/** One labelled value, as `get()` reports it. */
export interface MetricValue<L extends string> {
  labels: Labels<L>;
  value: number;
}

export interface MetricOptions<L extends string, M> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers?: Registry[];
  /** Refreshes the values before each scrape (`this` is the metric); may be async. */
  collect?: (this: M) => void | Promise<void>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly #collect: (() => void | Promise<void>) | undefined;

  constructor(options: MetricOptions<L, never>) {
    if (!NAME.test(options.name)) throw new Error(`metric name "${options.name}" is not a Prometheus name`);
    for (const label of options.labelNames ?? []) {
      if (!LABEL.test(label) || label.startsWith('__') || label === 'le') {
        throw new Error(`metric ${options.name}: "${label}" cannot be a label name`);
      }
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    this.#collect = options.collect as (() => void | Promise<void>) | undefined;
    for (const registry of options.registers ?? []) registry.register(this);
  }

  /** The labels in labelNames order as a map key; throws naming a label the metric lacks. */
  protected keyOf(labels: Labels<L>): string {
    for (const label of Object.keys(labels)) {
      if (!this.labelNames.includes(label as L)) {
        throw new Error(
          `metric ${this.name} has no label "${label}" (labels: ${this.labelNames.join(', ') || 'none'})`,
        );
      }
    }
    return JSON.stringify(this.labelNames.map((l) => (labels[l] === undefined ? null : String(labels[l]))));
  }

  /** Runs the collect callback: values as a scrape would see them. */
  async refresh(): Promise<void> {
    await this.#collect?.call(this);
  }

  /** The exposition text of this metric, after refreshing it. */
  async render(): Promise<string> {
    await this.refresh();
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    this.lines(lines);
    return `${lines.join('\n')}\n`;
  }

  protected abstract lines(out: string[]): void;
}

/** A metric whose values are single numbers (counters and gauges). */
abstract class ValueMetric<L extends string> extends Metric<L> {
  readonly #values = new Map<string, MetricValue<L>>();

  constructor(options: MetricOptions<L, never>) {
    super(options);
    this.reset();
  }

  /** Forgets every labelled value; an unlabelled metric goes back to 0. */
  reset(): void {
    this.#values.clear();
    if (this.labelNames.length === 0) this.#values.set(this.keyOf({}), { labels: {}, value: 0 });
  }

  /** Forgets the value of one label set. */
  remove(labels: Labels<L>): void {
    this.#values.delete(this.keyOf(labels));
  }

  /** The current values, after refreshing them. */
  async get(): Promise<{ name: string; help: string; type: string; values: MetricValue<L>[] }> {
    await this.refresh();
    const values = [...this.#values.values()].map((v) => ({ labels: { ...v.labels }, value: v.value }));
    return { name: this.name, help: this.help, type: this.type, values };
  }

  /**
   * The sum of the values whose labels include `match` (all of them by default), as they stand:
   * synchronous and without running `collect`, for a caller that watches a value it does not set.
   */
  total(match: Labels<L> = {}): number {
    const wanted = Object.entries(match);
    let sum = 0;
    for (const { labels, value } of this.#values.values()) {
      if (wanted.every(([name, v]) => String(labels[name as L]) === String(v))) sum += value;
    }
    return sum;
  }

  protected change(labels: Labels<L>, update: (old: number) => number): void {
    const key = this.keyOf(labels);
    const entry = this.#values.get(key);
    if (entry) entry.value = update(entry.value);
    else this.#values.set(key, { labels: { ...labels }, value: update(0) });
  }

  protected lines(out: string[]): void {
    for (const { labels, value } of this.#values.values()) {
      out.push(`${this.name}${labelText(labels)} ${numberText(value)}`);
    }
  }
}

/** A count that only goes up (reset aside). */
export class Counter<L extends string = string> extends ValueMetric<L> {
  readonly type = 'counter';

  constructor(options: MetricOptions<L, Counter<L>>) {
    super(options as MetricOptions<L, never>);
  }

  inc(labels?: Labels<L> | number, value = 1): void {
    const [set, by] = labelsAndValue(labels, value);
    if (!(by >= 0) || !Number.isFinite(by)) {
      throw new Error(`counter ${this.name} can only grow: inc(${by}) refused`);
    }
    this.change(set, (old) => old + by);
  }
}

/** A value that goes up and down. */
export class Gauge<L extends string = string> extends ValueMetric<L> {
  readonly type = 'gauge';

  constructor(options: MetricOptions<L, Gauge<L>>) {
    super(options as MetricOptions<L, never>);
  }

  set(labels: Labels<L> | number, value?: number): void {
    const [set, to] = labelsAndValue(labels, value ?? 0);
    this.change(set, () => to);
  }

  inc(labels?: Labels<L> | number, value = 1): void {
    const [set, by] = labelsAndValue(labels, value);
    this.change(set, (old) => old + by);
  }

  dec(labels?: Labels<L> | number, value = 1): void {
    const [set, by] = labelsAndValue(labels, value);
    this.change(set, (old) => old - by);
  }
}

/** prom-client's default buckets, in seconds. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Observed<L extends string> {
  labels: Labels<L>;
  /** counts[i]: observations <= buckets[i], not cumulated. */
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into buckets (cumulative `le` buckets, `_sum` and `_count`). */
export class Histogram<L extends string = string> extends Metric<L> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  readonly #observed = new Map<string, Observed<L>>();

  constructor(options: MetricOptions<L, Histogram<L>> & { buckets?: readonly number[] }) {
    super(options as MetricOptions<L, never>);
    const buckets = [...(options.buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b);
    if (buckets.some((b, i) => !Number.isFinite(b) || b === buckets[i - 1])) {
      throw new Error(`histogram ${this.name}: buckets must be distinct finite numbers`);
    }
    this.buckets = buckets;
  }

  observe(labels: Labels<L> | number, value?: number): void {
    const [set, v] = labelsAndValue(labels, value ?? Number.NaN);
    if (Number.isNaN(v)) throw new Error(`histogram ${this.name}: observe() needs a number`);
    const key = this.keyOf(set);
    let entry = this.#observed.get(key);
    if (!entry) {
      entry = { labels: { ...set }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#observed.set(key, entry);
    }
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) entry.counts[i] = (entry.counts[i] ?? 0) + 1;
    entry.sum += v;
    entry.count++;
  }

  reset(): void {
    this.#observed.clear();
  }

  protected lines(out: string[]): void {
    for (const { labels, counts, sum, count } of this.#observed.values()) {
      let cumulated = 0;
      this.buckets.forEach((bucket, i) => {
        cumulated += counts[i] ?? 0;
        out.push(`${this.name}_bucket${labelText(labels, numberText(bucket))} ${cumulated}`);
      });
      out.push(`${this.name}_bucket${labelText(labels, '+Inf')} ${count}`);
      out.push(`${this.name}_sum${labelText(labels)} ${numberText(sum)}`);
      out.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
  }
}

type AnyMetric = Metric<string>;

/** The metrics one program exposes on /metrics. */
export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  readonly #metrics = new Map<string, AnyMetric>();

  /** Adds a metric (its constructor does, given `registers`); names are unique per registry. */
  register(metric: AnyMetric): void {
    if (this.#metrics.has(metric.name)) {
      throw new Error(`a metric named ${metric.name} is already registered`);
    }
    this.#metrics.set(metric.name, metric);
  }

  /** A counter registered here, for the common declaration without a collect callback. */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter<L>({ name, help, labelNames, registers: [this] });
  }

  /** A gauge registered here, for the common declaration without a collect callback. */
  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge<L>({ name, help, labelNames, registers: [this] });
  }

  /** Every metric as exposition text; collect callbacks run first, all at once. */
  async metrics(): Promise<string> {
    const texts = await Promise.all([...this.#metrics.values()].map((m) => m.render()));
    return texts.join('\n');
  }

  /** One metric as exposition text; throws naming a metric that is not registered. */
  async getSingleMetricAsString(name: string): Promise<string> {
    const metric = this.#metrics.get(name);
    if (!metric) throw new Error(`no metric named ${name} is registered`);
    return metric.render();
  }
}

/**
 * `read` shared by the metrics of one scrape: calls within `holdMs` of a read's end get its
 * result, so a scrape costs one round trip to whatever owns the numbers (a worker thread).
 */
export function oncePerScrape<T>(read: () => Promise<T>, holdMs = 50): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= read().finally(() => {
      setTimeout(() => {
        pending = undefined;
      }, holdMs);
    });
    return pending;
  };
}

/** The two call shapes: `(labels, value)`, or `(value)` for a metric without labels. */
function labelsAndValue<L extends string>(
  labels: Labels<L> | number | undefined,
  value: number,
): [Labels<L>, number] {
  return typeof labels === 'number' ? [{}, labels] : [labels ?? {}, value];
}

function labelText<L extends string>(labels: Labels<L>, le?: string): string {
  const pairs = Object.entries(labels)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
  if (le !== undefined) pairs.push(`le="${le}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
