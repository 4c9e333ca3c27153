/**
 * What a pool knows per address, beyond its free set: who holds it and whose history names it (with the
 * sequence of the release that wrote it). One table per range, keyed by the offset from the range's
 * start.
 *
 * Addresses live in pages of PAGE_SIZE slots, created when an address of theirs is first written (a
 * slot, once used, always has a holder or a history entry), so memory grows with the addresses in use,
 * never with the size of the range. A page is found by its number in a small map (numbers
 * while exact, decimal text beyond 2^53) with the last page remembered: next-fit and replays touch
 * neighbouring addresses one after another, so most lookups never reach the map.
 *
 * Reads remember the last page found (a cache, invisible to callers): decide reads tables and never
 * changes what they hold.
 *
 * This replaces string-keyed maps of every address: folding a long log spends its time in hash lookups
 * on large maps and in collecting their garbage, and a page of plain arrays needs neither.
 */
const PAGE_SIZE = 32;
const EXACT = BigInt(Number.MAX_SAFE_INTEGER);

class Page<T> {
  readonly holder: Array<T | null> = new Array<T | null>(PAGE_SIZE).fill(null);
  readonly history: Array<T | null> = new Array<T | null>(PAGE_SIZE).fill(null);
  readonly seq: number[] = new Array<number>(PAGE_SIZE).fill(0);
}

type PageId = number | string;
/** an offset from the range's start: a number when exact (the fold's IPv4 path), else a bigint */
type Offset = bigint | number;

export interface AddressEntry<T> {
  /** offset from the range's start */
  offset: bigint;
  holder: T | null;
  history: T | null;
  seq: number;
}

/** Ranges up to this many addresses find their pages in an array (at most 2,048 slots), not a map. */
const DIRECT_LIMIT = 65_536n;

export class AddressTable<T> {
  private readonly pages = new Map<PageId, Page<T>>();
  /** the pages of a small range by number (a holey array: unused pages are holes) */
  private readonly direct: Array<Page<T> | undefined> | null;
  private lastId: PageId = -1;
  private lastPage: Page<T> | undefined = undefined;
  private slot = 0;

  /** `size`: the range's size, when known (a small range indexes its pages directly). */
  constructor(size?: bigint) {
    this.direct =
      size !== undefined && size <= DIRECT_LIMIT
        ? new Array<Page<T> | undefined>(Number((size + BigInt(PAGE_SIZE) - 1n) / BigInt(PAGE_SIZE)))
        : null;
  }

  /** Finds the page of an offset and sets `slot`; creates it when asked. */
  private page(offset: Offset, create: boolean): Page<T> | undefined {
    let id: PageId;
    if (typeof offset === 'number') {
      id = Math.floor(offset / PAGE_SIZE);
      this.slot = offset % PAGE_SIZE;
    } else if (offset <= EXACT) {
      const n = Number(offset);
      id = Math.floor(n / PAGE_SIZE);
      this.slot = n % PAGE_SIZE;
    } else {
      id = (offset / BigInt(PAGE_SIZE)).toString();
      this.slot = Number(offset % BigInt(PAGE_SIZE));
    }
    if (id === this.lastId) return this.lastPage;
    const direct = this.direct;
    let page = direct !== null ? direct[id as number] : this.pages.get(id);
    if (page === undefined) {
      if (!create) return undefined;
      page = new Page<T>();
      if (direct !== null) direct[id as number] = page;
      else this.pages.set(id, page);
    }
    this.lastId = id;
    this.lastPage = page;
    return page;
  }

  holder(offset: Offset): T | null {
    const page = this.page(offset, false);
    return page === undefined ? null : page.holder[this.slot];
  }

  history(offset: Offset): T | null {
    const page = this.page(offset, false);
    return page === undefined ? null : page.history[this.slot];
  }

  historySeq(offset: Offset): number {
    const page = this.page(offset, false);
    return page === undefined ? 0 : page.seq[this.slot];
  }

  /**
   * Makes `holder` the holder of the address and erases its history entry; returns that entry's load
   * balancer (null when there was none). The slot must be empty of a holder.
   */
  hold(offset: Offset, holder: T): T | null {
    const page = this.page(offset, true)!;
    const s = this.slot;
    const previous = page.history[s];
    page.history[s] = null;
    page.holder[s] = holder;
    return previous;
  }

  /** The holder leaves the address and history names it instead (the release). */
  releaseTo(offset: Offset, seq: number): void {
    const page = this.page(offset, false);
    if (page === undefined) return;
    const s = this.slot;
    page.history[s] = page.holder[s];
    page.seq[s] = seq;
    page.holder[s] = null;
  }

  /** Writes a history entry on an address nobody holds; returns the entry it replaced. */
  setHistory(offset: Offset, entry: T, seq: number): T | null {
    const page = this.page(offset, true)!;
    const s = this.slot;
    const previous = page.history[s];
    page.history[s] = entry;
    page.seq[s] = seq;
    return previous;
  }

  /** Every address with a holder or a history entry, in address order. */
  entries(): Array<AddressEntry<T>> {
    const found: Array<[bigint, Page<T>]> = [];
    if (this.direct !== null) {
      this.direct.forEach((page, id) => found.push([BigInt(id), page!])); // forEach skips the holes
    } else {
      for (const [id, page] of this.pages) found.push([BigInt(id), page]);
      found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    const out: Array<AddressEntry<T>> = [];
    for (const [base, page] of found) {
      for (let s = 0; s < PAGE_SIZE; s++) {
        const holder = page.holder[s];
        const history = page.history[s];
        if (holder === null && history === null) continue;
        out.push({ offset: base * BigInt(PAGE_SIZE) + BigInt(s), holder, history, seq: page.seq[s] });
      }
    }
    return out;
  }

  /** Pages in use (for tests of the memory bound). */
  get pageCount(): number {
    return this.direct !== null ? this.direct.filter(() => true).length : this.pages.size;
  }
}
