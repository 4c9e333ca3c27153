import { AckFloor } from '../src/ack-floor.js';

describe('AckFloor: one ack covers every delivery up to it, never work still running', () => {
  it('given deliveries done as they were handled, when taken, then the last one is acknowledged once', () => {
    const floor = new AckFloor<string>();
    floor.delivered(1, 'm1', true);
    floor.delivered(2, 'm2', true);
    floor.delivered(5, 'm5', true);
    expect(floor.take()).toBe('m5');
    expect(floor.take()).toBeNull();
    expect(floor.outstanding).toBe(0);
  });

  it('given work still running on an early delivery, then later deliveries wait behind it', () => {
    const floor = new AckFloor<string>();
    floor.delivered(1, 'm1', true);
    floor.delivered(2, 'm2', false);
    floor.delivered(3, 'm3', true);
    expect(floor.take()).toBe('m1');
    expect(floor.take()).toBeNull();
    expect(floor.outstanding).toBe(2);

    floor.settle(2);
    expect(floor.take()).toBe('m3');
    expect(floor.outstanding).toBe(0);
  });

  it('given work finishing out of order, then the ack moves only as far as every earlier one is done', () => {
    const floor = new AckFloor<string>();
    for (let seq = 10; seq < 15; seq++) floor.delivered(seq, `m${seq}`, false);
    floor.settle(13);
    floor.settle(12);
    expect(floor.take()).toBeNull();
    floor.settle(10);
    expect(floor.take()).toBe('m10');
    floor.settle(11);
    expect(floor.take()).toBe('m13');
    floor.settle(14);
    expect(floor.take()).toBe('m14');
  });

  it('ignores the settling of a sequence it never saw or already covered', () => {
    const floor = new AckFloor<string>();
    floor.delivered(1, 'm1', true);
    floor.delivered(3, 'm3', false);
    floor.settle(2);
    floor.settle(1);
    expect(floor.take()).toBe('m1');
    expect(floor.take()).toBeNull();
    floor.settle(3);
    expect(floor.take()).toBe('m3');
  });

  it('stays correct across many batches (old entries dropped as it goes)', () => {
    const floor = new AckFloor<number>();
    let acked = 0;
    for (let seq = 1; seq <= 10_000; seq++) {
      floor.delivered(seq, seq, false);
      if (seq % 7 === 0) {
        for (let s = seq - 6; s <= seq; s++) floor.settle(s);
        const m = floor.take();
        expect(m).toBe(seq);
        acked = m!;
      }
    }
    expect(acked).toBe(9996);
    expect(floor.outstanding).toBe(4);
  });
});
