// One camera's PullPoint event subscription: subscribe, pull, renew at ~80 % of its lifetime,
// recreate it when the camera says it is gone, back off (with jitter) after faults and while the
// camera is unreachable, and unsubscribe on stop. One request at a time; never a busy loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import * as device from './device.js';
import * as events from './events.js';
import { isSubscriptionGone } from './soap.js';
import { mapNotification, type OnvifEvent } from './topics.js';
import { OnvifError, type OnvifTransport, safeHost } from './transport.js';

export interface OnvifSubscriptionStatus {
  state: 'connecting' | 'subscribed' | 'retrying' | 'stopped';
  /** Consecutive failures (0 once a pull succeeds). */
  failures: number;
  /** What went wrong last, credentials masked. */
  error?: string;
  /** With `retrying`: when the next attempt starts. */
  retryInMs?: number;
}

export interface EventSubscriptionOptions {
  transport: OnvifTransport;
  /** The device service address (`http://host:port/onvif/device_service`). */
  deviceUrl: string;
  /** The events service address when known; otherwise asked with GetServices/GetCapabilities. */
  eventsUrl?: string;
  /**
   * The camera's events, one state per type: a type starts when the first of its topics/sources
   * starts and ends when the last one ends; repeats of a state are dropped.
   */
  onEvent: (event: OnvifEvent) => void;
  onStatus?: (status: OnvifSubscriptionStatus) => void;
  /** Subscription lifetime asked for (600 s). */
  terminationSeconds?: number;
  /** PullMessages timeout asked for (60 s); lowered when the camera answers early (Tapo: 10 s). */
  pullTimeoutSeconds?: number;
  messageLimit?: number;
  /** The shortest time between the starts of two pulls (500 ms), for cameras that answer at once. */
  minPullIntervalMs?: number;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** How long stop() waits for Unsubscribe (2 s). */
  unsubscribeTimeoutMs?: number;
}

interface Active {
  ref: events.SubscriptionRef;
  renewAt: number;
  expiresAt: number;
}

const RENEW_FRACTION = 0.8;
/** The lowest pull timeout we lower to for a camera that closes pulls early. */
const MIN_PULL_SECONDS = 5;

export class OnvifEventSubscription {
  readonly #o: Required<Omit<EventSubscriptionOptions, 'eventsUrl' | 'onStatus'>> &
    Pick<EventSubscriptionOptions, 'onStatus'>;
  #eventsUrl: string | undefined;
  #sub: Active | undefined;
  #pullSeconds: number;
  #failures = 0;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  /** Per event type, the topics and sources (`topic\u0000source`) that are on now. */
  #active = new Map<OnvifEvent['type'], Set<string>>();
  #status: OnvifSubscriptionStatus = { state: 'connecting', failures: 0 };

  constructor(options: EventSubscriptionOptions) {
    this.#o = {
      terminationSeconds: 600,
      pullTimeoutSeconds: 60,
      messageLimit: 100,
      minPullIntervalMs: 500,
      backoff: DEFAULT_BACKOFF,
      random: Math.random,
      unsubscribeTimeoutMs: 2_000,
      ...options,
    };
    this.#eventsUrl = options.eventsUrl;
    this.#pullSeconds = this.#o.pullTimeoutSeconds;
  }

  get status(): OnvifSubscriptionStatus {
    return this.#status;
  }

  /** The pull timeout in use (lower than asked when the camera closed pulls early). */
  get pullTimeoutSeconds(): number {
    return this.#pullSeconds;
  }

  start(): void {
    if (this.#loop || this.#stopped) return;
    this.#loop = this.#run();
  }

  /** Ends the loop and every timer, unsubscribes (bounded), and resolves when all of it is done. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#abort.abort();
      await this.#loop;
      const sub = this.#sub;
      this.#sub = undefined;
      if (sub) {
        await this.#o.transport
          .call(this.#url(sub), events.unsubscribe(sub.ref), { timeoutMs: this.#o.unsubscribeTimeoutMs })
          .catch(() => undefined);
      }
      this.#setStatus({ state: 'stopped', failures: this.#failures });
    })();
    return this.#stopped;
  }

  #setStatus(status: OnvifSubscriptionStatus): void {
    this.#status = status;
    try {
      this.#o.onStatus?.(status);
    } catch {
      // a listener's error is its own
    }
  }

  #url(sub: Active): string {
    return sub.ref.address;
  }

  get #signal(): AbortSignal {
    return this.#abort.signal;
  }

  async #run(): Promise<void> {
    while (!this.#signal.aborted) {
      try {
        if (!this.#sub) await this.#subscribe();
        const sub = this.#sub as Active | undefined;
        if (!sub) continue;
        if (this.#o.transport.now >= sub.renewAt && !(await this.#renew(sub))) continue;
        await this.#pull(sub);
      } catch (err) {
        if (this.#signal.aborted) break;
        await this.#failed(err);
      }
    }
  }

  async #subscribe(): Promise<void> {
    const t = this.#o.transport;
    this.#setStatus({ state: 'connecting', failures: this.#failures });
    // The camera's clock, for WS-Security and event times (cameras reject skewed timestamps).
    // A camera that will not tell its time (a fault, a login asked against the spec, an answer we
    // cannot read) keeps the offset we had; only an unreachable camera stops the attempt here.
    try {
      await t.syncClock(this.#o.deviceUrl, { signal: this.#signal });
    } catch (err) {
      if (!(err instanceof OnvifError) || !['fault', 'not_authorized', 'bad_response', 'http'].includes(err.kind)) {
        throw err;
      }
    }
    this.#eventsUrl ??= device.alignHost(await this.#findEventsUrl(), this.#o.deviceUrl);
    const res = await t.call(this.#eventsUrl, events.createPullPointSubscription(this.#o.terminationSeconds), {
      signal: this.#signal,
    });
    const created = events.parseCreatePullPointSubscription(res.body, res.raw);
    created.ref.address = device.alignHost(created.ref.address, this.#o.deviceUrl);
    this.#sub = { ref: created.ref, ...this.#schedule(created) };
    try {
      await t.call(created.ref.address, events.setSynchronizationPoint(created.ref), { signal: this.#signal });
    } catch (err) {
      // Optional: many cameras refuse it; the subscription works without the initial states.
      if (err instanceof OnvifError && err.kind === 'aborted') throw err;
    }
    this.#setStatus({ state: 'subscribed', failures: this.#failures });
  }

  async #findEventsUrl(): Promise<string> {
    const t = this.#o.transport;
    try {
      const res = await t.call(this.#o.deviceUrl, device.getServices(), { signal: this.#signal });
      const found = device.parseServices(res.body).events;
      if (found) return found;
    } catch (err) {
      if (!(err instanceof OnvifError) || err.kind !== 'fault') throw err;
    }
    const res = await t.call(this.#o.deviceUrl, device.getCapabilities(), { signal: this.#signal });
    // Some cameras say they have no PullPoint and have it: try their events address anyway.
    return device.parseCapabilities(res.body).events ?? this.#o.deviceUrl;
  }

  /** When to renew and when the subscription ends, in our clock. */
  #schedule(times: events.SubscriptionTimes): { renewAt: number; expiresAt: number } {
    const asked = this.#o.terminationSeconds * 1000;
    let lifetime = asked;
    if (times.currentTime !== undefined && times.terminationTime !== undefined) {
      const given = times.terminationTime - times.currentTime;
      // A camera that reports an end at (or before) its current time, or far beyond what we
      // asked, is not believed: it would make us renew in a loop, or never.
      if (given >= Math.min(10_000, asked) && given <= asked * 2) lifetime = given;
    }
    const now = this.#o.transport.now;
    return { renewAt: now + lifetime * RENEW_FRACTION, expiresAt: now + lifetime };
  }

  /** Renews; false when the camera refused and the subscription must be recreated. */
  async #renew(sub: Active): Promise<boolean> {
    try {
      const res = await this.#o.transport.call(this.#url(sub), events.renew(sub.ref, this.#o.terminationSeconds), {
        signal: this.#signal,
      });
      Object.assign(sub, this.#schedule(events.parseRenew(res.body)));
      return true;
    } catch (err) {
      if (!(err instanceof OnvifError) || (err.kind !== 'fault' && err.kind !== 'not_authorized')) throw err;
      // Renew refused (ResourceUnknown and the like, or not implemented): make a new one now.
      this.#sub = undefined;
      if (err.fault && !isSubscriptionGone(err.fault)) await this.#unsubscribeQuietly(sub);
      return false;
    }
  }

  async #unsubscribeQuietly(sub: Active): Promise<void> {
    await this.#o.transport
      .call(this.#url(sub), events.unsubscribe(sub.ref), {
        timeoutMs: this.#o.unsubscribeTimeoutMs,
        signal: this.#signal,
      })
      .catch(() => undefined);
  }

  async #pull(sub: Active): Promise<void> {
    const t = this.#o.transport;
    const untilRenew = Math.max(1, Math.floor((sub.renewAt - t.now) / 1000));
    const seconds = Math.min(this.#pullSeconds, untilRenew);
    const started = t.now;
    let result: events.PullResult;
    try {
      const res = await t.call(this.#url(sub), events.pullMessages(sub.ref, seconds, this.#o.messageLimit), {
        signal: this.#signal,
        timeoutMs: seconds * 1000 + 10_000,
      });
      result = events.parsePullMessages(res.body);
    } catch (err) {
      const elapsed = t.now - started;
      if (
        err instanceof OnvifError &&
        err.kind === 'unreachable' &&
        this.#lowerPullTimeout(seconds, elapsed) &&
        !this.#signal.aborted
      ) {
        return; // the camera hung up on a long pull: ask shorter ones from now on
      }
      if (err instanceof OnvifError && (err.kind === 'fault' || err.kind === 'not_authorized')) {
        // Only an explicit fault says the subscription is lost: recreate it (after the backoff).
        this.#sub = undefined;
        this.#endAll();
        if (err.fault && !isSubscriptionGone(err.fault)) await this.#unsubscribeQuietly(sub);
      } else if (t.now >= sub.expiresAt) {
        this.#sub = undefined;
        this.#endAll();
      }
      throw err;
    }
    const receivedAt = t.now;
    const elapsed = receivedAt - started;
    if (result.messages.length === 0) this.#lowerPullTimeout(seconds, elapsed);
    if (this.#failures > 0 || this.#status.state !== 'subscribed') {
      this.#failures = 0;
      this.#setStatus({ state: 'subscribed', failures: 0 });
    }
    for (const msg of result.messages) {
      for (const ev of mapNotification(msg, receivedAt, t.clockOffsetMs)) this.#emit(ev);
    }
    if (elapsed < this.#o.minPullIntervalMs) await this.#sleep(this.#o.minPullIntervalMs - elapsed);
  }

  /** A pull that ended well before its timeout (with nothing, or a hang-up) lowers the timeout. */
  #lowerPullTimeout(askedSeconds: number, elapsedMs: number): boolean {
    if (elapsedMs < 2_000 || elapsedMs >= askedSeconds * 500) return false;
    const lowered = Math.max(MIN_PULL_SECONDS, Math.floor(elapsedMs / 1000) - 1);
    if (lowered >= this.#pullSeconds) return false;
    this.#pullSeconds = lowered;
    return true;
  }

  /**
   * One state per event type: it starts when the first of its topics and sources starts and ends
   * when the last one ends (a camera with cell motion and a motion alarm has one motion). The same
   * state again (a camera repeating itself, the initial states after a recreate) is no change; a
   * momentary event while its type is on is inside that event.
   */
  #emit(ev: OnvifEvent): void {
    let on = this.#active.get(ev.type);
    if (!on) {
      on = new Set();
      this.#active.set(ev.type, on);
    }
    if (ev.momentary) {
      if (on.size > 0) return;
    } else {
      const key = `${ev.topic}\u0000${ev.source}`;
      if (ev.state === 'start') {
        if (on.has(key)) return;
        on.add(key);
        if (on.size > 1) return;
      } else {
        if (!on.delete(key)) return;
        if (on.size > 0) return;
      }
    }
    try {
      this.#o.onEvent(ev);
    } catch {
      // a listener's error is its own
    }
  }

  /**
   * The subscription is lost (a fault, or it expired while the camera was unreachable): what was
   * on is no longer known, so it ends now; the new subscription's states start it again.
   */
  #endAll(): void {
    const at = this.#o.transport.now;
    for (const [type, on] of this.#active) {
      const last = [...on].at(-1);
      on.clear();
      if (last === undefined) continue;
      const [topic = '', source = ''] = last.split('\u0000');
      try {
        this.#o.onEvent({ type, state: 'end', topic, source, at });
      } catch {
        // a listener's error is its own
      }
    }
  }

  async #failed(err: unknown): Promise<void> {
    this.#failures += 1;
    const delay = backoffDelay(this.#failures, this.#o.backoff, this.#o.random);
    const message =
      err instanceof OnvifError
        ? err.message
        : `${safeHost(this.#o.deviceUrl)}: ${this.#o.transport.redact(err instanceof Error ? err.message : String(err))}`;
    this.#setStatus({ state: 'retrying', failures: this.#failures, error: message, retryInMs: delay });
    await this.#sleep(delay);
  }

  async #sleep(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.#signal }).catch(() => undefined);
  }
}
