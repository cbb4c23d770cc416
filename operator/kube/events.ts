import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { API_VERSION, FIELD_MANAGER, KIND } from '../api/constants.js';
import type { DigitModel } from '../api/types.js';
import type { EventSpec } from '../status-events.js';
import type { KubeClient } from './client.js';
import { microTime } from './micro-time.js';

const REPORTING_CONTROLLER = `digitserve.dev/${FIELD_MANAGER}`;

/**
 * Records events.k8s.io/v1 Events on DigitModels. The same (object, reason, message) is recorded
 * at most once per `dedupWindowMs`, so a reconcile loop that keeps failing the same way does not
 * flood the API. Fire and forget: an event that cannot be written is logged, never fatal.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly client: KubeClient,
    private readonly instance: string,
    private readonly log: Logger,
    private readonly dedupWindowMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this event would be written now (and marks it written). */
  admit(uid: string, e: EventSpec): boolean {
    const key = `${uid}\u0000${e.reason}\u0000${e.message}`;
    const t = this.now();
    const last = this.recent.get(key);
    if (last !== undefined && t - last < this.dedupWindowMs) return false;
    this.recent.set(key, t);
    if (this.recent.size > 10_000) {
      for (const [k, at] of this.recent) if (t - at >= this.dedupWindowMs) this.recent.delete(k);
    }
    return true;
  }

  record(dm: DigitModel, e: EventSpec): void {
    if (!this.admit(dm.metadata.uid ?? dm.metadata.name, e)) return;
    const { name, namespace } = dm.metadata;
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${name}.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`, namespace },
      eventTime: microTime(new Date()),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.instance.slice(0, 128),
      action: 'Reconcile',
      reason: e.reason,
      type: e.type,
      note: e.message.slice(0, 1024),
      regarding: { apiVersion: API_VERSION, kind: KIND, name, namespace, uid: dm.metadata.uid },
    };
    this.client.create(event).catch((err: unknown) => {
      this.log.warn({ namespace, name, err: String(err), reason: e.reason }, 'could not record event');
    });
  }
}
