/**
 * The Kubernetes object fields the MetalBeacon API types share, as they come from the API
 * server: unvalidated, optional where the server may omit them. Validated forms live in
 * shared/config/types.ts.
 */

/** The subset of metav1.ObjectMeta the configuration reads. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly uid?: string;
}

/** A metav1.LabelSelector as written by users (not yet validated). */
export interface LabelSelectorSpec {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }[];
}

/** metav1.Condition. */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

/** A custom resource of one of our kinds. */
export interface Resource<Kind extends string, Spec, Status = undefined> {
  readonly apiVersion?: string;
  readonly kind?: Kind;
  readonly metadata: ObjectMeta;
  readonly spec?: Spec;
  readonly status?: Status;
}
