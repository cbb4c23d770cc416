import type { Logger } from 'pino';
import { analysisInForce, canaryWeightInForce, type AnalysisRecord } from './analysis/record.js';
import { API_VERSION, KIND, REASON } from './api/constants.js';
import { DigitModelSpecSchema } from './api/schema.js';
import type { DigitModel, DigitModelStatus, KubeObject } from './api/types.js';
import { desiredChildren, unsupportedTracks, type ChildDefaults } from './children/index.js';
import { routeCanaryWeight } from './children/http-route.js';
import { childNames } from './children/names.js';
import { isControlledBy } from './children/owner.js';
import { needsApply, withDesiredHash } from './drift.js';
import { handoverKeeps, promotionHandover } from './handover.js';
import { latestPodFailure } from './pod-failures.js';
import type { KubeClient } from './kube/client.js';
import { KubeError, toKubeError } from './kube/errors.js';
import { CHILD_KINDS, type ChildKind } from './kube/resources.js';
import type { OperatorMetrics } from './metrics.js';
import { computeStatus, sameStatus, type ObservedState } from './status.js';
import { statusEvents, type EventSpec } from './status-events.js';

/** Read access to the informer caches. */
export interface Caches {
  digitModel(namespace: string, name: string): KubeObject | undefined;
  child(kind: ChildKind, namespace: string, name: string): KubeObject | undefined;
  children(kind: ChildKind, namespace: string): KubeObject[];
  /** Kinds with an informer (HTTPRoute only when the Gateway API is installed). */
  watches(kind: ChildKind): boolean;
  /** The runtime pods of a DigitModel (label app.kubernetes.io/instance). */
  pods(namespace: string, dmName: string): KubeObject[];
  /** A child of an unwatched kind was applied (or refused): the caches should ask discovery again. */
  recheck?(kind: ChildKind): void;
}

export interface ReconcilerDeps {
  client: KubeClient;
  caches: Caches;
  defaults: ChildDefaults;
  events: { record(dm: DigitModel, e: EventSpec): void };
  log: Logger;
  metrics?: OperatorMetrics;
  now?: () => Date;
  /** Judgements of the canary analysis loop not yet in status (SPEC §7). */
  analysis?: PendingAnalysis;
}

/** Where the analysis loop leaves its newest record for the reconciler to write into status. */
export class PendingAnalysis {
  private readonly records = new Map<string, AnalysisRecord>();
  get(key: string): AnalysisRecord | undefined {
    return this.records.get(key);
  }
  set(key: string, r: AnalysisRecord): void {
    this.records.set(key, r);
  }
  /** Drops `r` once status holds it (a newer record stays). */
  settle(key: string, r: AnalysisRecord): void {
    if (this.records.get(key) === r) this.records.delete(key);
  }
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

interface WrittenStatus {
  staleResourceVersion?: string;
  status: DigitModelStatus;
}

/**
 * Level-triggered, idempotent reconcile of one DigitModel: build the desired children, apply those
 * that drifted, delete those no longer wanted, and write status only when it changed.
 */
export class Reconciler {
  // status this process wrote, used until the cache catches up so condition times stay put
  private readonly written = new Map<string, WrittenStatus>();

  constructor(private readonly deps: ReconcilerDeps) {}

  forget(key: string): void {
    this.written.delete(key);
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { caches, log: rootLog } = this.deps;
    const raw = caches.digitModel(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) return {}; // children go with it through the garbage collector
    const log = rootLog.child({ namespace, name });
    const key = `${namespace}/${name}`;
    const dm = this.withLatestStatus(key, raw as unknown as DigitModel);

    const parsed = DigitModelSpecSchema.safeParse(dm.spec);
    if (!parsed.success) {
      const message = `spec does not match the DigitModel schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
      await this.writeStatus(key, dm, { deployments: {}, error: { reason: REASON.invalidSpec, message } }, log);
      log.warn({ message }, 'invalid DigitModel spec');
      return {};
    }
    dm.spec = parsed.data;

    const errors: KubeError[] = [];
    // a failed write is recorded and the others still tried; but once the leadership term ended
    // (Aborted) nothing more is tried or logged
    const record = (err: unknown) => {
      const e = toKubeError(err);
      if (e.code === 'Aborted') throw e;
      errors.push(e);
    };
    const observed: ObservedState = { deployments: {} };
    const canaryDeployment = caches.child('Deployment', namespace, childNames.deployment(name, 'canary'));
    const canaryReady = !!dm.spec.canary && readyReplicas(canaryDeployment) > 0;
    const handover = promotionHandover(dm, {
      stable: caches.child('Deployment', namespace, childNames.deployment(name, 'stable')),
      canary: canaryDeployment,
      route: caches.watches('HTTPRoute') ? caches.child('HTTPRoute', namespace, childNames.httpRoute(name)) : undefined,
    });
    if (handover) observed.handover = handover;
    const failure = latestPodFailure(caches.pods(namespace, name));
    if (failure) observed.podFailure = failure;
    // canary analysis: the weight in force is the analysis' (status is its state; the loop's newest judgement first)
    const pending = this.deps.analysis?.get(key);
    const analysis = analysisInForce(dm, pending);
    if (analysis) observed.analysis = analysis;
    const facts = {
      canaryReady,
      handoverRouteWeight: handover?.routeCanaryWeight,
      canaryWeight: canaryWeightInForce(dm, analysis),
      promoted: analysis?.state.phase === 'Promoted',
    };
    const desired = desiredChildren(dm, this.deps.defaults, facts).map(withDesiredHash);
    // a track in a format this operator cannot convert gets no Deployment; one that exists (from
    // before the format changed, or from an operator that had a converter) is left as it is
    const unsupported = unsupportedTracks(dm, this.deps.defaults);
    const keptForFormat: string[] = [];
    if (unsupported.length > 0) {
      observed.unsupported = unsupported;
      for (const u of unsupported) {
        const depName = childNames.deployment(name, u.track);
        const held = caches.child('Deployment', namespace, depName);
        if (held && isControlledBy(held.metadata.ownerReferences, dm.metadata.uid)) {
          observed.deployments[u.track] = held;
          keptForFormat.push(`Deployment/${depName}`);
        }
      }
    }

    for (const child of desired) {
      let result: KubeObject | undefined;
      try {
        result = await this.ensure(dm, child, log);
      } catch (err) {
        record(err);
      }
      if (child.kind === 'Deployment') {
        const track = child.metadata.name === childNames.deployment(name, 'canary') ? 'canary' : 'stable';
        // status reports what the cluster holds: the apply's answer, or the cached Deployment when
        // this pass's write failed — a failed write does not take the pods away (#15 item 1)
        const held = result ?? caches.child('Deployment', namespace, child.metadata.name);
        if (held) observed.deployments[track] = held;
      }
    }
    if (dm.spec.traffic?.parentRefs?.length) observed.routeCanaryWeight = routeCanaryWeight(dm, facts);
    // a promotion's handover keeps the canary track, untouched, until stable serves its version
    const wanted = new Set([...desired.map((c) => `${c.kind}/${c.metadata.name}`), ...(handover ? handoverKeeps(dm) : []), ...keptForFormat]);
    try {
      await this.deleteUnwanted(dm, wanted, log);
    } catch (err) {
      record(err);
    }

    if (errors.length > 0) observed.error = { reason: REASON.reconcileError, message: errors.map((e) => e.message).join('; ') };
    await this.writeStatus(key, dm, observed, log);
    if (pending) {
      // status holds the judgement now: its Event goes out once (a judgement of a canary version
      // the spec no longer names is dropped, Event and all)
      if (pending.event && analysis === pending) this.deps.events.record(dm, pending.event);
      this.deps.analysis?.settle(key, pending);
    }
    if (errors.length > 0) throw errors[0];
    return {};
  }

  /** Applies the child if it drifted; returns the object as it now is (or as the cache has it). */
  private async ensure(dm: DigitModel, child: KubeObject, log: Logger): Promise<KubeObject | undefined> {
    const kind = child.kind as ChildKind;
    const live = this.deps.caches.watches(kind) ? this.deps.caches.child(kind, dm.metadata.namespace, child.metadata.name) : undefined;
    if (live && !isControlledBy(live.metadata.ownerReferences, dm.metadata.uid)) {
      const other = live.metadata.ownerReferences?.find((r) => r.controller);
      if (other) {
        throw new KubeError('Conflict', `${kind} ${child.metadata.name} already exists and is controlled by ${other.kind} ${other.name}`);
      }
    }
    if (!needsApply(child, live)) return live;
    log.info({ kind, child: child.metadata.name, create: !live }, live ? 'applying drifted child' : 'creating child');
    const watched = this.deps.caches.watches(kind);
    try {
      const result = await this.deps.client.apply(child);
      this.deps.metrics?.childWrites.inc({ kind, operation: 'apply' });
      return result;
    } catch (err) {
      const e = toKubeError(err);
      if (kind === 'HTTPRoute' && e.code === 'NotFound') {
        throw new KubeError('NotFound', `apply HTTPRoute ${dm.metadata.namespace}/${child.metadata.name}: this cluster does not serve the Gateway API's HTTPRoutes (install the Gateway API CRDs, or remove spec.traffic)`, e.status, { cause: e });
      }
      throw e;
    } finally {
      // applied, or refused, while unwatched: discovery's view of the Gateway API may be out of date
      if (!watched) this.deps.caches.recheck?.(kind);
    }
  }

  private async deleteUnwanted(dm: DigitModel, wanted: Set<string>, log: Logger): Promise<void> {
    const { caches, client, metrics } = this.deps;
    for (const kind of CHILD_KINDS) {
      if (!caches.watches(kind)) continue;
      for (const obj of caches.children(kind, dm.metadata.namespace)) {
        if (!isControlledBy(obj.metadata.ownerReferences, dm.metadata.uid)) continue;
        if (wanted.has(`${kind}/${obj.metadata.name}`) || obj.metadata.deletionTimestamp) continue;
        log.info({ kind, child: obj.metadata.name }, 'deleting child no longer wanted');
        await client.delete(kind, obj.metadata.namespace, obj.metadata.name, obj.metadata.uid);
        metrics?.childWrites.inc({ kind, operation: 'delete' });
      }
    }
  }

  private async writeStatus(key: string, dm: DigitModel, observed: ObservedState, log: Logger): Promise<void> {
    const now = (this.deps.now ?? (() => new Date()))();
    const status = computeStatus(dm, observed, now);
    if (sameStatus(status, dm.status)) return;
    const body = { apiVersion: API_VERSION, kind: KIND, metadata: { name: dm.metadata.name, namespace: dm.metadata.namespace }, status };
    try {
      await this.deps.client.apply(body as unknown as KubeObject, 'status');
    } catch (err) {
      const e = toKubeError(err);
      if (e.code === 'NotFound') return; // deleted meanwhile
      throw e;
    }
    this.deps.metrics?.childWrites.inc({ kind: KIND, operation: 'status' });
    this.written.set(key, { staleResourceVersion: dm.metadata.resourceVersion, status });
    log.info({ conditions: status.conditions?.map((c) => `${c.type}=${c.status}`).join(','), ready: status.readyReplicas }, 'status updated');
    for (const e of statusEvents(dm.status, status)) this.deps.events.record(dm, e);
  }

  /** The DigitModel's status as this process knows it best: its own last write until the cache has it. */
  currentStatus(key: string): DigitModelStatus | undefined {
    const [namespace, name] = key.split('/');
    const raw = this.deps.caches.digitModel(namespace, name);
    return raw ? this.withLatestStatus(key, raw as unknown as DigitModel).status : undefined;
  }

  /** The cached DigitModel, with the status this process last wrote if the cache has not caught up. */
  private withLatestStatus(key: string, dm: DigitModel): DigitModel {
    const w = this.written.get(key);
    if (!w) return { ...dm };
    if (w.staleResourceVersion !== dm.metadata.resourceVersion) {
      this.written.delete(key);
      return { ...dm };
    }
    return { ...dm, status: w.status };
  }
}

function readyReplicas(deployment: KubeObject | undefined): number {
  return (deployment?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
}
