/**
 * "Tell me when you change", written once (after VS Code's `base/common/event.ts` and
 * `lifecycle.ts`). A service keeps a private `Emitter` and exposes its `event`; a subscriber keeps
 * the `Disposable` it gets back, usually in a `DisposableStore` it disposes with itself, so no
 * listener outlives the object that registered it.
 */
export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (value: T) => void;

/** Subscribe; dispose the answer to stop listening. */
export type Event<T> = (listener: Listener<T>) => Disposable;

export function toDisposable(dispose: () => void): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      dispose();
    },
  };
}

export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  private disposed = false;

  /**
   * A listener that throws does not stop the others. With `onError` its error goes there;
   * without, the first error is thrown to whoever fired, after every listener has run.
   */
  constructor(private readonly onError?: (error: unknown) => void) {}

  readonly event: Event<T> = (listener) => {
    if (this.disposed) return toDisposable(() => undefined);
    // A wrapper per subscription: the same function subscribed twice is two subscriptions.
    const entry: Listener<T> = (value) => listener(value);
    this.listeners.add(entry);
    return toDisposable(() => this.listeners.delete(entry));
  };

  fire(value: T): void {
    let failed: { error: unknown } | null = null;
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (error) {
        if (this.onError) this.onError(error);
        else failed ??= { error };
      }
    }
    if (failed) throw failed.error;
  }

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }
}

/** Holds what an owner registered; disposing it releases everything, newest first. */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  add<D extends Disposable>(item: D): D {
    // Added after its owner is gone: release at once rather than leak.
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  dispose(): void {
    this.disposed = true;
    for (const item of this.items.splice(0).reverse()) item.dispose();
  }
}
