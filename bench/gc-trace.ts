/**
 * What a child Node process allocates, from what `node --trace-gc-nvp` prints on its stdout: one line per
 * garbage collection,
 *
 *     [<pid>:<isolate>]     1234 ms: pause=1.2 mutator=3.4 gc=s ... total_size_before=<bytes>
 *         total_size_after=<bytes> ... allocated=<bytes> promoted=...
 *
 * where `allocated` is what the isolate allocated on its heap since the previous collection (V8's
 * GCTracer: the heap's object size at this collection's start less its size at the end of the previous
 * one; that identity is checked on every line, so a lost or garbled line is seen, not summed wrong).
 * Off-heap memory (the backing stores of Buffers and ArrayBuffers) is not in it.
 *
 * Phases are marked exactly, not by the time lines arrive: the child is started with `gcTraceArgs()`,
 * which preloads a few lines that, on SIGUSR2, run a scavenge (so a GC line closes everything allocated
 * so far) and then print `@@bench-gc-mark <n>`. The bytes allocated between two marks are the sum of
 * `allocated` over the GC lines between the two mark lines, in the order the child wrote them.
 *
 * The child's stdout goes to a file (a pipe would need this process's event loop to keep up, and a full
 * pipe could make the child drop output): `GcTrace` reads that file as it grows. Every line that is not
 * a GC line or a mark is the child's own output and is skipped.
 *
 * Not a benchmark itself: only files named `*.bench.ts` are run.
 */
import { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check } from './harness.js';

const MARK = '@@bench-gc-mark ';

/** CommonJS, loaded with --require; `gc` only in a context of its own, not as the service's global. */
const PRELOAD = `'use strict';
const v8 = require('node:v8');
const vm = require('node:vm');
const fs = require('node:fs');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
let n = 0;
process.on('SIGUSR2', () => {
  gc({ type: 'minor' });
  fs.writeSync(1, ${JSON.stringify(MARK)} + ++n + '\\n');
});
`;

/** The node arguments that make a child traceable by GcTrace (the preload is written into `dir`). */
export function gcTraceArgs(dir: string): string[] {
  const preload = join(dir, 'bench-gc-mark.cjs');
  writeFileSync(preload, PRELOAD);
  return ['--trace-gc-nvp', '--require', preload];
}

/** One GC line. */
export interface GcLine {
  isolate: string;
  /** gc=s (scavenge), mc (mark-compact), mmc (minor mark-compact), ... */
  kind: string;
  allocated: number;
}

/** What the child allocated between two marks. */
export interface Allocation {
  bytes: number;
  /** GC lines summed */
  collections: number;
}

const PREFIX = /^\[\d+:(0x[0-9a-fA-F]+)\]\s+\d+(?:\.\d+)? ms: (.*)$/;

function field(body: string, name: string): string | undefined {
  return new RegExp(`(?:^| )${name}=(\\S+)`).exec(body)?.[1];
}

function bytesField(body: string, name: string): number | undefined {
  const v = field(body, name);
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

export class GcTrace {
  readonly lines: GcLine[] = [];
  /** lines.length when each mark line was read: marks[n - 1] for `@@bench-gc-mark n` */
  private readonly marks: number[] = [];
  /** GC lines that could not be read, or whose `allocated` broke the identity (must stay empty) */
  readonly problems: string[] = [];
  private readonly fd: number;
  private rest = '';
  private lastIsolate = '?';
  /** per isolate: total_size_after of its previous GC line */
  private readonly sizeAfter = new Map<string, number>();

  /** `file`: where the child's stdout goes (opened for reading here). */
  constructor(file: string) {
    this.fd = openSync(file, 'r');
  }

  /** Reads what the child has written since the last call. */
  poll(): void {
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, null);
      if (n === 0) break;
      this.rest += buf.toString('latin1', 0, n);
    }
    const parts = this.rest.split('\n');
    this.rest = parts.pop()!;
    for (const line of parts) this.take(line);
  }

  private take(line: string): void {
    if (line.startsWith(MARK)) {
      const n = Number(line.slice(MARK.length));
      check(n === this.marks.length + 1, `GC trace: mark ${line.slice(MARK.length)} out of order`);
      this.marks.push(this.lines.length);
      return;
    }
    let body: string;
    const m = PREFIX.exec(line);
    if (m) {
      this.lastIsolate = m[1];
      body = m[2];
    } else if (line.startsWith('pause=')) {
      // the child's own output got between V8's two writes of one line (prefix, then body)
      body = line;
    } else {
      return; // the child's own output
    }
    if (!body.startsWith('pause=')) return; // another trace (e.g. --trace-gc), or the child's output
    const isolate = this.lastIsolate;
    const kind = field(body, 'gc');
    const allocated = bytesField(body, 'allocated');
    const before = bytesField(body, 'total_size_before');
    const after = bytesField(body, 'total_size_after');
    if (kind === undefined || allocated === undefined || before === undefined || after === undefined) {
      this.problems.push(`unreadable GC line: ${line.slice(0, 200)}`);
      return;
    }
    const previous = this.sizeAfter.get(isolate) ?? 0;
    // (allocated === before: a new isolate at a finished worker's address)
    if (allocated !== before - previous && allocated !== before) {
      this.problems.push(
        `GC line ${this.lines.length} (${isolate}): allocated=${allocated} but total_size_before=${before} ` +
          `less the previous total_size_after=${previous} is ${before - previous} (a line lost?)`,
      );
    }
    this.sizeAfter.set(isolate, after);
    this.lines.push({ isolate, kind, allocated });
  }

  /**
   * Marks a point in the child's run: a scavenge there, so that everything allocated before it is
   * summed before the mark and everything after it after. Resolves with the mark's position.
   */
  async mark(child: ChildProcess, timeoutMs = 30_000): Promise<number> {
    const want = this.marks.length + 1;
    check(child.exitCode === null && child.kill('SIGUSR2'), 'GC trace: the child is gone');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.poll();
      if (this.marks.length >= want) return this.marks[want - 1];
      check(child.exitCode === null, `GC trace: the child exited (${child.exitCode})`);
      check(Date.now() < deadline, `GC trace: no mark ${want} from the child in ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  /** The bytes allocated between two marks; fails the run if the trace cannot be trusted. */
  between(from: number, to: number): Allocation {
    check(this.problems.length === 0, `GC trace: ${this.problems.length} bad line(s): ${this.problems[0]}`);
    const lines = this.lines.slice(from, to);
    // the mark's own scavenge at least: no line means no --trace-gc-nvp output
    check(lines.length > 0, 'GC trace: no GC line between two marks (is --trace-gc-nvp in effect?)');
    const bytes = lines.reduce((sum, l) => sum + l.allocated, 0);
    check(bytes > 0, 'GC trace: nothing allocated between two marks');
    return { bytes, collections: lines.length };
  }

  close(): void {
    closeSync(this.fd);
  }
}
