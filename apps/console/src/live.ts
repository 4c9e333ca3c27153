/**
 * Live: the outcomes as the service stores them, from GET /v1/events (server-sent events), read with
 * fetch so that the bearer token goes along. After a break it resumes with ?since= the last id seen;
 * each (re)connection tells the pages to load again, so nothing that happened in between is missed.
 */
import { onMounted, onUnmounted, reactive, watch } from 'vue';
import { authHeaders, session } from './api';

export interface Outcome {
  seq: number;
  /** the stream subject, e.g. ipam.ip.allocated */
  subject: string;
  data: Record<string, unknown>;
}

export const live = reactive({
  connected: false,
  /** the last stream sequence received */
  lastSeq: 0,
  /** outcomes received since the page was opened */
  received: 0,
});

type Listener = { outcome: (o: Outcome) => void; open: () => void };
const listeners = new Set<Listener>();
let controller: AbortController | null = null;
let started = false;

function dispatch(o: Outcome): void {
  live.lastSeq = o.seq;
  live.received++;
  for (const l of [...listeners]) l.outcome(o);
}

/** Parses one event block of a text/event-stream. */
function parseBlock(block: string): Outcome | null {
  let id = '';
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (!id || data.length === 0) return null;
  try {
    return { seq: Number(id), subject: event, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
  } catch {
    return { seq: Number(id), subject: event, data: {} };
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

async function follow(signal: AbortSignal): Promise<void> {
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      const url = live.lastSeq > 0 ? `/v1/events?since=${live.lastSeq}` : '/v1/events';
      const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...authHeaders() }, signal });
      if (res.status === 401 || res.status === 403) {
        live.connected = false;
        if (res.status === 401) session.needsSignIn = true;
        await res.body?.cancel();
        return; // started again after the next sign-in
      }
      if (!res.ok || !res.body) throw new Error(`GET /v1/events answered ${res.status}`);
      live.connected = true;
      backoff = 1000;
      for (const l of [...listeners]) l.open();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const o = parseBlock(block);
          if (o) dispatch(o);
        }
      }
    } catch (e) {
      if (signal.aborted || (e as Error).name === 'AbortError') return;
    }
    live.connected = false;
    await sleep(backoff, signal);
    backoff = Math.min(backoff * 2, 15_000);
  }
}

function restart(): void {
  controller?.abort();
  controller = new AbortController();
  void follow(controller.signal);
}

/** Starts following (once); follows again after each sign-in or sign-out. */
export function startLive(): void {
  if (started) return;
  started = true;
  restart();
  watch(
    () => session.epoch,
    () => restart(),
  );
  window.addEventListener('pagehide', () => controller?.abort());
}

/**
 * In a component: calls `reload` when the stream (re)connects and, at most every 150 ms, after the
 * outcomes `relevant` picks (all by default).
 */
export function useLive(reload: () => void, relevant: (o: Outcome) => boolean = () => true): void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const soon = () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      reload();
    }, 150);
  };
  const listener: Listener = { outcome: (o) => relevant(o) && soon(), open: soon };
  onMounted(() => listeners.add(listener));
  onUnmounted(() => {
    listeners.delete(listener);
    if (timer !== null) clearTimeout(timer);
  });
}

/** Every outcome, for a component that keeps its own log of them. */
export function onOutcome(fn: (o: Outcome) => void): void {
  const listener: Listener = { outcome: fn, open: () => undefined };
  onMounted(() => listeners.add(listener));
  onUnmounted(() => listeners.delete(listener));
}
