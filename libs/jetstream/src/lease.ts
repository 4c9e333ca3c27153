/**
 * Single-holder leadership on a NATS KV bucket, by compare-and-set on the entry revision.
 *
 * One key (default `leader`) in a bucket (default `ipam-lease`, history 1, file storage) holds
 * `{"holder": "<id>", "expiresAt": <wall-clock ms>, "ttlMs": <ms>}`.
 *
 * - Acquire: no entry -> `kv.create` (fails if anyone created it first). An entry that is deleted,
 *   expired (`expiresAt <= Date.now()`), or already ours -> `kv.update(key, value, entry.revision)`,
 *   which the server applies only if the key's last revision is still the one we read. An unexpired
 *   entry of another holder -> not acquired.
 * - Renew (every TTL/3 by default): `kv.update(key, value, ourRevision)`. It fails if anyone wrote the
 *   key since our last write, i.e. if someone took the lease over: then the lease is lost.
 * - Release: `kv.delete(key, {previousSeq: ourRevision})`, so a stale holder cannot delete a lease
 *   someone else holds by now.
 *
 * Local validity. The holder does not trust its view of the lease for the whole TTL: it records
 * `validUntil = (monotonic time when the acquire/renew request was sent) + TTL - safetyMargin`
 * (`performance.now()`, immune to wall-clock jumps) and `canAct()` is false from then on, whether or not
 * a renewal is in flight. A timer also declares the lease lost (`onLost('expired')`) at `validUntil`.
 *
 * Failure cases (read before relying on this):
 * - Clock skew between instances: `expiresAt` is the holder's wall clock, and a challenger compares it
 *   with *its own* wall clock. If the challenger's clock runs ahead of the holder's by D, it takes over
 *   D ms early. The holder stops acting `safetyMarginMs` before its own TTL ends, so mutual exclusion
 *   holds only while D < safetyMarginMs (minus the holder's scheduling delays). Keep clocks synced (NTP)
 *   and the margin above the worst skew you expect. A challenger whose clock is *behind* only takes over
 *   later (liveness, not safety).
 * - A paused holder (GC pause, event loop blocked, SIGSTOP, VM migration): `canAct()` turns false once
 *   `validUntil` passes, even if no timer had a chance to run. But a check done just *before* the pause
 *   cannot be revoked: an action already past `canAct()` can complete after the lease moved on. The lease
 *   therefore is not a fencing token. Writers to the event stream must fence themselves with
 *   `Nats-Expected-Last-Sequence` (EventStore `expectedLastSeq`; for pipelined chains also
 *   `expectedLastMsgId`, see EventStore.appendNoWait): a stale leader's append then fails.
 * - When the paused holder resumes, its next renewal's CAS fails if someone took over (`onLost('superseded')`),
 *   or succeeds if nobody did (it simply continues).
 * - Unknown outcome: a renewal that timed out may still have been stored, leaving us with a revision we
 *   never saw. The next renewal then fails its CAS; if the entry still names us as holder we adopt its
 *   revision and retry once (nobody else can have written it: any takeover writes the new holder's id).
 * - Holder ids must be unique per process (the default includes host, pid and a random part): two
 *   processes sharing an id would each treat the other's entry as their own.
 * - Network partition from NATS: renewals fail, the holder stops acting at `validUntil`, and others take
 *   over after `expiresAt`. With replicated buckets (R3), the CAS is decided by the stream leader, so it
 *   stays linearizable; reads go to the leader too (`allow_direct: false`).
 * - Someone else writes the key (a client that is no instance: an `expiresAt` far in the future, any
 *   text). The holder's next renewal CAS fails and it reads a value that is not its own: it stops acting
 *   (`onLost('superseded')`, `supersededBy` says by what). A value that never changes cannot block the
 *   lease for long: besides `expiresAt`, a challenger measures on its own monotonic clock how long it has
 *   seen the same revision, and takes over once that is longer than the value's TTL (its `ttlMs`, at most
 *   {@link MAX_OBSERVED_TTL_FACTOR} times ours; ours when it has none). That is as safe as `expiresAt`
 *   without skew: a holder renews every TTL/3 (a new revision) and stops acting TTL minus the margin
 *   after sending its last renewal, which is before anyone first saw that renewal's revision.
 * - Whether anyone decides (`observe()`): a holder that may act, or the last entry read (by this
 *   instance's loop) naming a holder seen renewing it (two revisions of the same holder) whose lease has
 *   not lapsed by either rule above. An entry written once by someone who never renews it does not count.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { JetStreamApiCodes, JetStreamApiError, StorageType, jetstream } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const DEFAULT_LEASE_BUCKET = 'ipam-lease';
export const DEFAULT_LEASE_KEY = 'leader';
export const DEFAULT_LEASE_TTL_MS = 10_000;
/** A value's own `ttlMs` is honoured up to this many times our TTL (a foreign value cannot ask for more). */
export const MAX_OBSERVED_TTL_FACTOR = 10;

export type LeaseLostReason =
  /** Our CAS failed: someone else wrote the lease (took it over). */
  | 'superseded'
  /** `validUntil` passed without a successful renewal. */
  | 'expired'
  /** `release()` was called. */
  | 'released';

export interface LeaseValue {
  holder: string;
  /** Wall-clock ms (holder's `Date.now()` when it sent the write, plus TTL). */
  expiresAt: number;
  ttlMs?: number;
  /** the holder's host name and process id, so a restart on the same host can see it is gone */
  host?: string;
  pid?: number;
}

/**
 * True when the lease's holder ran on this host and its process no longer exists: it cannot act, so
 * its lease need not be waited out. (A process id reused within one TTL is the only false positive.)
 */
export function holderProcessGone(v: LeaseValue): boolean {
  if (v.host !== hostname() || typeof v.pid !== 'number' || v.pid === process.pid) return false;
  try {
    process.kill(v.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** What this instance last saw of the lease, and whether that is a decider. */
export interface LeaseObservation {
  /** a holder that may act now (this instance, or one seen renewing a lease that has not lapsed) */
  present: boolean;
  /** the holder named by the entry (this instance's id when it holds it), null when free or unreadable */
  holder: string | null;
  /** the entry's revision, 0 when none was read */
  revision: number;
  /** this instance holds the lease */
  self: boolean;
  /** why no decider is present (null when one is) */
  reason: string | null;
}

/** The entry that superseded the lease we held: what someone else wrote over it. */
export interface LeaseSupersession {
  /** the holder it names, null when it is not a lease value (deleted, not JSON, ...) */
  holder: string | null;
  revision: number;
  /** the revision we held */
  ourRevision: number;
  /** the value's text (at most 200 characters), null for a delete or purge */
  value: string | null;
}

export interface LeaseClock {
  /** Wall clock in ms, compared across instances (default `Date.now`). */
  wallNow(): number;
  /** Monotonic clock in ms, local only (default `performance.now`). */
  monoNow(): number;
}

export interface KvLeaseOptions {
  /** Unique id of this instance; default `${hostname}:${pid}:${random}`. */
  holderId?: string;
  /** Key in the bucket; default `leader`. */
  key?: string;
  /** Lease time to live; default 10 s. */
  ttlMs?: number;
  /** Renewal period of `start()`; default TTL/3. */
  renewIntervalMs?: number;
  /**
   * How often `start()` looks for a takeover while not holding the lease; default min(renewal period,
   * max(100, TTL/10)). A standby then takes over a crashed holder's lease at most TTL + this after its
   * last renewal. A release is seen at once (the loop watches the key).
   */
  pollIntervalMs?: number;
  /** How long before the TTL ends the holder stops acting; default min(1000, TTL/5). */
  safetyMarginMs?: number;
  /** Timeout of each KV request in ms; default min(renewIntervalMs, 5000). */
  requestTimeoutMs?: number;
  onAcquired?: (lease: KvLease) => void;
  onLost?: (reason: LeaseLostReason, lease: KvLease) => void;
  /** A valid lease whose holder is known to be gone does not block acquisition; default: never. */
  holderGone?: (value: LeaseValue) => boolean;
  /** Errors of background renewals/acquisitions in `start()` (e.g. timeouts while disconnected). */
  onError?: (err: unknown, lease: KvLease) => void;
  clock?: Partial<LeaseClock>;
}

export interface OpenKvLeaseOptions extends KvLeaseOptions {
  /** Bucket name; default `ipam-lease`. */
  bucket?: string;
  /** Replicas when the bucket is created; default 1. */
  replicas?: number;
}

/** True for the server's answer to a failed compare-and-set (wrong last (subject) sequence). */
export function isCasFailure(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

export function defaultHolderId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

const encoder = new TextEncoder();

function parseLease(entry: KvEntry): LeaseValue | null {
  if (entry.operation !== 'PUT') return null;
  try {
    const v = entry.json<Partial<LeaseValue>>();
    if (typeof v?.holder === 'string' && typeof v.expiresAt === 'number') return v as LeaseValue;
  } catch {
    // unreadable: treated as free (expired)
  }
  return null;
}

export class KvLease {
  readonly holderId: string;
  readonly key: string;
  readonly ttlMs: number;
  readonly renewIntervalMs: number;
  readonly pollIntervalMs: number;
  readonly safetyMarginMs: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: LeaseClock;
  private readonly holderGone: (value: LeaseValue) => boolean;

  private held = false;
  private revision = 0;
  private _validUntil = 0;
  private _expiresAt = 0;
  private expiryTimer: NodeJS.Timeout | null = null;
  private loopTimer: NodeJS.Timeout | null = null;
  private running = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly acquiredListeners = new Set<(lease: KvLease) => void>();
  private readonly lostListeners = new Set<(reason: LeaseLostReason, lease: KvLease) => void>();
  private readonly onError?: (err: unknown, lease: KvLease) => void;
  /** the entry this instance last read (acquire attempts and failed renewals), and since when */
  private seen: {
    revision: number;
    value: LeaseValue | null;
    /** monotonic time this revision was first read */
    firstMono: number;
    /** monotonic time it was last read */
    lastMono: number;
    /** the holder was seen renewing: this revision replaced one of the same holder */
    renewing: boolean;
  } | null = null;
  private _supersededBy: LeaseSupersession | null = null;

  /** Opens (creating when missing: history 1, file storage) the bucket and returns a lease on it. */
  static async open(nc: NatsConnection, opts: OpenKvLeaseOptions = {}): Promise<KvLease> {
    const kvm = new Kvm(jetstream(nc, { timeout: 5000 }));
    const kv = await kvm.create(opts.bucket ?? DEFAULT_LEASE_BUCKET, {
      history: 1,
      storage: StorageType.File,
      replicas: opts.replicas ?? 1,
      // Reads through the stream leader, so a read is never older than the last acknowledged write.
      allow_direct: false,
    });
    return new KvLease(kv, opts);
  }

  constructor(
    readonly kv: KV,
    opts: KvLeaseOptions = {},
  ) {
    this.holderId = opts.holderId ?? defaultHolderId();
    this.holderGone = opts.holderGone ?? (() => false);
    this.key = opts.key ?? DEFAULT_LEASE_KEY;
    this.ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    if (!(this.ttlMs > 0)) throw new Error(`lease ttlMs must be > 0, got ${this.ttlMs}`);
    this.renewIntervalMs = opts.renewIntervalMs ?? Math.max(1, Math.floor(this.ttlMs / 3));
    this.pollIntervalMs =
      opts.pollIntervalMs ?? Math.min(this.renewIntervalMs, Math.max(100, Math.floor(this.ttlMs / 10)));
    this.safetyMarginMs = opts.safetyMarginMs ?? Math.min(1000, Math.floor(this.ttlMs / 5));
    if (this.safetyMarginMs < 0 || this.safetyMarginMs >= this.ttlMs) {
      throw new Error(`lease safetyMarginMs must be in [0, ttlMs), got ${this.safetyMarginMs}`);
    }
    this.requestTimeoutMs = opts.requestTimeoutMs ?? Math.min(Math.max(this.renewIntervalMs, 100), 5000);
    this.clock = {
      wallNow: opts.clock?.wallNow ?? (() => Date.now()),
      monoNow: opts.clock?.monoNow ?? (() => performance.now()),
    };
    if (opts.onAcquired) this.acquiredListeners.add(opts.onAcquired);
    if (opts.onLost) this.lostListeners.add(opts.onLost);
    this.onError = opts.onError;
  }

  /** Registers a listener; returns a function that removes it. */
  on(event: 'acquired', fn: (lease: KvLease) => void): () => void;
  on(event: 'lost', fn: (reason: LeaseLostReason, lease: KvLease) => void): () => void;
  on(event: 'acquired' | 'lost', fn: (...args: never[]) => void): () => void {
    if (event === 'acquired') {
      const f = fn as (lease: KvLease) => void;
      this.acquiredListeners.add(f);
      return () => this.acquiredListeners.delete(f);
    }
    const f = fn as (reason: LeaseLostReason, lease: KvLease) => void;
    this.lostListeners.add(f);
    return () => this.lostListeners.delete(f);
  }

  /** True while we hold the lease as far as we know (last CAS succeeded, not yet lost or expired). */
  isHeld(): boolean {
    return this.held;
  }

  /** True only while held and the local monotonic clock is before `validUntil`: the test before acting. */
  canAct(): boolean {
    return this.held && this.clock.monoNow() < this._validUntil;
  }

  /** Monotonic time (`performance.now()` scale, ms) until which the holder may act; 0 when not held. */
  get validUntil(): number {
    return this.held ? this._validUntil : 0;
  }

  /** Wall-clock expiry we last wrote (ms); 0 when not held. */
  get expiresAt(): number {
    return this.held ? this._expiresAt : 0;
  }

  /** KV revision of our last successful write; 0 when not held. */
  get heldRevision(): number {
    return this.held ? this.revision : 0;
  }

  /** The lease entry as stored now (any holder), or null when free (never written or released). */
  async current(): Promise<(LeaseValue & { revision: number }) | null> {
    const entry = await this.kv.get(this.key);
    const v = entry ? parseLease(entry) : null;
    return v && entry ? { ...v, revision: entry.revision } : null;
  }

  /** What overwrote the lease the last time it was lost as 'superseded' (null before that). */
  get supersededBy(): LeaseSupersession | null {
    return this._supersededBy;
  }

  /**
   * Whether an instance may decide now, from what this instance knows without a request: itself, or the
   * entry its loop last read (see the class comment). An entry not read for two renewal periods (KV out
   * of reach) says nothing: not present.
   */
  observe(): LeaseObservation {
    if (this.canAct()) {
      return { present: true, holder: this.holderId, revision: this.revision, self: true, reason: null };
    }
    const seen = this.seen;
    const now = this.clock.monoNow();
    const none = (holder: string | null, revision: number, reason: string): LeaseObservation => ({
      present: false,
      holder,
      revision,
      self: false,
      reason,
    });
    if (seen === null || now - seen.lastMono > 2 * this.renewIntervalMs + this.requestTimeoutMs) {
      return none(null, seen?.revision ?? 0, 'the decider lease could not be read lately');
    }
    const v = seen.value;
    if (v === null) return none(null, seen.revision, 'no instance holds the decider lease');
    if (v.holder === this.holderId) {
      return none(v.holder, seen.revision, 'this instance is taking the decider lease back');
    }
    if (v.expiresAt <= this.clock.wallNow() || this.holderGone(v)) {
      return none(v.holder, seen.revision, `the decider lease of ${v.holder} has expired`);
    }
    const ttl = this.observedTtl(v);
    if (now - seen.firstMono >= ttl) {
      return none(
        v.holder,
        seen.revision,
        `the decider lease of ${v.holder} was not renewed for ${Math.round(now - seen.firstMono)} ms (its TTL is ${ttl} ms)`,
      );
    }
    if (!seen.renewing) {
      return none(
        v.holder,
        seen.revision,
        `the decider lease names ${v.holder}, which has not been seen renewing it (written by someone else?)`,
      );
    }
    return { present: true, holder: v.holder, revision: seen.revision, self: false, reason: null };
  }

  /**
   * Tries to become (or stay) the holder. Resolves true if we hold the lease afterwards. When already
   * held, it renews. Rejects only on transport/server errors (timeouts etc.), never on contention.
   */
  tryAcquire(): Promise<boolean> {
    return this.serial(() => (this.held ? this.doRenew() : this.doAcquire()));
  }

  /**
   * Extends the lease we hold. Resolves true when renewed, false when not held or lost (superseded).
   * Rejects on transport errors (the lease stays held until `validUntil`, then is lost as 'expired').
   */
  renew(): Promise<boolean> {
    return this.serial(() => this.doRenew());
  }

  /**
   * Stops acting immediately and frees the lease for others (CAS delete: never deletes a lease someone
   * else holds by now). No-op when not held.
   */
  release(): Promise<void> {
    return this.serial(async () => {
      if (!this.held) return;
      const rev = this.revision;
      this.markLost('released');
      try {
        await this.kv.delete(this.key, { previousSeq: rev });
      } catch (err) {
        if (!isCasFailure(err)) throw err;
      }
    });
  }

  /**
   * Runs the lease in the background: renew when held, every `renewIntervalMs`; try to acquire when not,
   * every `pollIntervalMs` and at once when a watch of the key sees it deleted or purged (a holder's
   * release: the takeover after a clean shutdown waits for no timer).
   * Its timers are unref'd: they do not keep the process alive on their own (the NATS connection does).
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    let ticking = false;
    let again = false;
    const tick = async (): Promise<void> => {
      if (!this.running) return;
      if (ticking) {
        again = true;
        return;
      }
      ticking = true;
      if (this.loopTimer) clearTimeout(this.loopTimer);
      this.loopTimer = null;
      try {
        do {
          again = false;
          try {
            await this.tryAcquire();
          } catch (err) {
            this.onError?.(err, this);
          }
        } while (again && this.running && !this.held);
      } finally {
        ticking = false;
      }
      if (this.running) {
        this.loopTimer = setTimeout(
          () => void tick(),
          this.held ? this.renewIntervalMs : this.pollIntervalMs,
        );
        this.loopTimer.unref();
      }
    };
    this.kick = () => {
      if (!this.held) void tick();
    };
    void tick();
    void this.watchKey();
  }

  /** Runs a takeover attempt now (a watch saw the key released); set by start(). */
  private kick: () => void = () => undefined;
  private watcher: { stop(): void } | null = null;

  /** Watches the key for deletes and purges while running (best effort: the poll remains). */
  private async watchKey(): Promise<void> {
    try {
      const iter = await this.kv.watch({ key: this.key, include: KvWatchInclude.UpdatesOnly });
      if (!this.running) {
        iter.stop();
        return;
      }
      this.watcher = iter;
      for await (const e of iter) {
        if (!this.running) break;
        if (e.operation === 'DEL' || e.operation === 'PURGE') this.kick();
      }
    } catch (err) {
      this.onError?.(err, this);
    } finally {
      this.watcher = null;
    }
  }

  /** Stops the background loop; with `release` (default true) also releases a held lease. */
  async stop(release = true): Promise<void> {
    this.running = false;
    if (this.loopTimer) clearTimeout(this.loopTimer);
    this.loopTimer = null;
    this.watcher?.stop();
    this.watcher = null;
    if (release) {
      await this.release();
    } else {
      // Keep the local expiry timer: the lease stays held until validUntil, then is lost as 'expired'.
      await this.serial(async () => undefined);
    }
  }

  // --- internals ------------------------------------------------------------------------------

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private value(expiresAt: number): Uint8Array {
    const v: LeaseValue = {
      holder: this.holderId,
      expiresAt,
      ttlMs: this.ttlMs,
      host: hostname(),
      pid: process.pid,
    };
    return encoder.encode(JSON.stringify(v));
  }

  /** How long a value stays valid after its revision was first seen: its TTL, within bounds. */
  private observedTtl(v: LeaseValue): number {
    const own = v.ttlMs;
    if (typeof own !== 'number' || !Number.isFinite(own) || own <= 0) return this.ttlMs;
    return Math.min(own, MAX_OBSERVED_TTL_FACTOR * this.ttlMs);
  }

  /** Records an entry read; returns the monotonic time its revision was first seen. */
  private see(entry: KvEntry | null, value: LeaseValue | null): number {
    const now = this.clock.monoNow();
    const revision = entry?.revision ?? 0;
    const prev = this.seen;
    if (prev !== null && prev.revision === revision) {
      prev.lastMono = now;
      return prev.firstMono;
    }
    const renewing =
      value !== null && prev?.value != null && prev.value.holder === value.holder && prev.revision < revision;
    this.seen = { revision, value, firstMono: now, lastMono: now, renewing };
    return now;
  }

  private async doAcquire(): Promise<boolean> {
    const entry = await this.kv.get(this.key);
    const cur = entry ? parseLease(entry) : null;
    const firstSeen = this.see(entry, cur);
    const sentMono = this.clock.monoNow();
    const expiresAt = this.clock.wallNow() + this.ttlMs;
    const data = this.value(expiresAt);
    let rev: number;
    try {
      if (!entry) {
        rev = await this.kv.create(this.key, data);
      } else {
        if (
          cur &&
          cur.holder !== this.holderId &&
          cur.expiresAt > this.clock.wallNow() &&
          !this.holderGone(cur) &&
          // the same revision for longer than its TTL: nobody renews it (a holder renews every TTL/3)
          sentMono - firstSeen < this.observedTtl(cur)
        ) {
          return false;
        }
        rev = await this.kv.update(this.key, data, entry.revision, this.requestTimeoutMs);
      }
    } catch (err) {
      if (isCasFailure(err)) return false;
      throw err;
    }
    this.setHeld(rev, sentMono, expiresAt);
    return true;
  }

  private async doRenew(): Promise<boolean> {
    if (!this.held) return false;
    for (let attempt = 0; attempt < 2; attempt++) {
      const sentMono = this.clock.monoNow();
      const expiresAt = this.clock.wallNow() + this.ttlMs;
      try {
        const rev = await this.kv.update(
          this.key,
          this.value(expiresAt),
          this.revision,
          this.requestTimeoutMs,
        );
        this.setHeld(rev, sentMono, expiresAt);
        return true;
      } catch (err) {
        if (!isCasFailure(err)) {
          if (this.held && this.clock.monoNow() >= this._validUntil) this.markLost('expired');
          throw err;
        }
        // Someone wrote the key since our last write. If it is still us (an earlier write whose ack we
        // lost), adopt its revision and retry once; otherwise the lease was taken over.
        const entry = attempt === 0 ? await this.kv.get(this.key) : null;
        const cur = entry ? parseLease(entry) : null;
        if (!entry || !cur || cur.holder !== this.holderId || !this.held) {
          if (entry) this.see(entry, cur);
          if (this.held) {
            this._supersededBy = {
              holder: cur?.holder ?? null,
              revision: entry?.revision ?? 0,
              ourRevision: this.revision,
              value: entry && entry.operation === 'PUT' ? entry.string().slice(0, 200) : null,
            };
          }
          break;
        }
        this.revision = entry.revision;
      }
    }
    if (this.held) this.markLost('superseded');
    return false;
  }

  private setHeld(rev: number, sentMono: number, expiresAt: number): void {
    const wasHeld = this.held;
    const now = this.clock.monoNow();
    this.seen = {
      revision: rev,
      value: { holder: this.holderId, expiresAt, ttlMs: this.ttlMs },
      firstMono: now,
      lastMono: now,
      renewing: wasHeld,
    };
    this.held = true;
    this.revision = rev;
    this._expiresAt = expiresAt;
    this._validUntil = sentMono + this.ttlMs - this.safetyMarginMs;
    this.armExpiryTimer();
    if (!wasHeld) {
      for (const fn of [...this.acquiredListeners]) this.safeCall(() => fn(this));
    }
  }

  private markLost(reason: LeaseLostReason): void {
    if (!this.held) return;
    this.held = false;
    this.revision = 0;
    this._validUntil = 0;
    this._expiresAt = 0;
    this.clearExpiryTimer();
    for (const fn of [...this.lostListeners]) this.safeCall(() => fn(reason, this));
  }

  private armExpiryTimer(): void {
    this.clearExpiryTimer();
    const check = (): void => {
      this.expiryTimer = null;
      if (!this.held) return;
      const left = this._validUntil - this.clock.monoNow();
      if (left <= 0) this.markLost('expired');
      else this.expiryTimer = setTimeout(check, Math.ceil(left)).unref();
    };
    this.expiryTimer = setTimeout(
      check,
      Math.max(0, Math.ceil(this._validUntil - this.clock.monoNow())),
    ).unref();
  }

  private clearExpiryTimer(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  private safeCall(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError?.(err, this);
    }
  }
}
