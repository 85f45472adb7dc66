import { PositionWaiters } from './position-waiters';

describe('PositionWaiters', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('given waiters for 3 and 5, when 4 is reached, then only the one for 3 resolves true', async () => {
    const waiters = new PositionWaiters();
    const settled: string[] = [];
    const three = waiters.wait(3, 1_000).then((ok) => settled.push(`3:${ok}`));
    const five = waiters.wait(5, 1_000).then((ok) => settled.push(`5:${ok}`));
    waiters.reached(4);
    await three;
    expect(settled).toEqual(['3:true']);
    waiters.reached(5);
    await five;
    expect(settled).toEqual(['3:true', '5:true']);
  });

  it('given a waiter, when its timeout passes first, then it resolves false and a later position does not change it', async () => {
    const waiters = new PositionWaiters();
    const waited = waiters.wait(2, 100);
    jest.advanceTimersByTime(100);
    expect(await waited).toBe(false);
    waiters.reached(2);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('given a waiter with its own current position, when reached is called, then that position decides', async () => {
    const waiters = new PositionWaiters();
    let current = 1;
    const settled: boolean[] = [];
    const waited = waiters.wait(3, 1_000, () => current).then((ok) => settled.push(ok));
    waiters.reached(10);
    await Promise.resolve();
    expect(settled).toEqual([]);
    current = 3;
    waiters.reached(3);
    await waited;
    expect(settled).toEqual([true]);
  });

  it('given waiters, when cancelled, then each resolves false and its timer is cleared', async () => {
    const waiters = new PositionWaiters();
    const both = Promise.all([waiters.wait(1, 1_000), waiters.wait(2, 1_000)]);
    waiters.cancel();
    expect(await both).toEqual([false, false]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
