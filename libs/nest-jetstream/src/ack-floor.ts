/**
 * Which delivery to acknowledge on a consumer with `AckPolicy.All`, where one ack covers every message
 * up to it: the last of the longest run, from the oldest, of deliveries whose work is done. A message
 * whose work is still running (an outcome not yet stored) holds back the acks of every later one, so
 * an ack never covers work that a crash could lose.
 */
export class AckFloor<M> {
  private seqs: number[] = [];
  private msgs: M[] = [];
  private done: boolean[] = [];
  private head = 0;

  /** A delivery, in stream order; `done` when its work finished while it was handled. */
  delivered(seq: number, msg: M, done: boolean): void {
    this.seqs.push(seq);
    this.msgs.push(msg);
    this.done.push(done);
  }

  /** The work of the delivery at `seq` finished. */
  settle(seq: number): void {
    // work mostly finishes in order: look from the oldest
    for (let i = this.head; i < this.seqs.length; i++) {
      if (this.seqs[i] === seq) {
        this.done[i] = true;
        return;
      }
      if (this.seqs[i] > seq) return;
    }
  }

  /** The delivery to acknowledge now (covering all before it), or null when none is newly covered. */
  take(): M | null {
    let last = -1;
    while (this.head < this.seqs.length && this.done[this.head]) last = this.head++;
    if (last < 0) return null;
    const msg = this.msgs[last];
    if (this.head > 1024 && this.head * 2 > this.seqs.length) this.compact();
    return msg;
  }

  /** deliveries not yet covered by an ack */
  get outstanding(): number {
    return this.seqs.length - this.head;
  }

  private compact(): void {
    this.seqs = this.seqs.slice(this.head);
    this.msgs = this.msgs.slice(this.head);
    this.done = this.done.slice(this.head);
    this.head = 0;
  }
}
