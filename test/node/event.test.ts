import { describe, expect, it } from 'vitest';
import { DisposableStore, Emitter, toDisposable } from '../../src-node/event';

describe('Emitter', () => {
  it('delivers to every listener until its subscription is disposed', () => {
    const e = new Emitter<number>();
    const a: number[] = [];
    const b: number[] = [];
    const subA = e.event((v) => a.push(v));
    e.event((v) => b.push(v));
    e.fire(1);
    subA.dispose();
    e.fire(2);
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
  });

  it('counts the same function subscribed twice as two subscriptions', () => {
    const e = new Emitter<string>();
    const seen: string[] = [];
    const f = (v: string) => seen.push(v);
    const one = e.event(f);
    e.event(f);
    one.dispose();
    e.fire('x');
    expect(seen).toEqual(['x']);
  });

  it('runs every listener when one throws, then throws the first error to the firer', () => {
    const e = new Emitter<void>();
    const ran: string[] = [];
    e.event(() => {
      throw new Error('first');
    });
    e.event(() => ran.push('second'));
    expect(() => e.fire()).toThrow('first');
    expect(ran).toEqual(['second']);
  });

  it('hands listener errors to onError when given, and does not throw', () => {
    const errors: unknown[] = [];
    const e = new Emitter<void>((error) => errors.push(error));
    e.event(() => {
      throw new Error('boom');
    });
    e.fire();
    expect(errors).toHaveLength(1);
  });

  it('stops delivering after dispose and ignores later subscriptions', () => {
    const e = new Emitter<number>();
    const seen: number[] = [];
    e.event((v) => seen.push(v));
    e.dispose();
    e.event((v) => seen.push(v));
    e.fire(1);
    expect(seen).toEqual([]);
    expect(e.hasListeners).toBe(false);
  });
});

describe('DisposableStore', () => {
  it('disposes what it holds once, newest first, and at once what is added afterwards', () => {
    const order: string[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => order.push('a')));
    store.add(toDisposable(() => order.push('b')));
    store.dispose();
    store.dispose();
    expect(order).toEqual(['b', 'a']);
    store.add(toDisposable(() => order.push('late')));
    expect(order).toEqual(['b', 'a', 'late']);
  });
});
