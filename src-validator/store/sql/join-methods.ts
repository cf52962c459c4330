type MethodsOf<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] };
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
export type Joined<P extends object[]> = Intersection<{ [I in keyof P]: MethodsOf<P[I]> }[number]>;

/**
 * One object with the methods of every part, each bound to its part: the store's one flat
 * interface over one class per aggregate, without a forwarding method per query. Parts keep their
 * helpers as module functions, so every method on a part's prototype is its public face; a name
 * defined by two parts is a mistake, refused.
 */
export function joinMethods<P extends object[]>(...parts: P): Joined<P> {
  const joined: Record<string, unknown> = {};
  for (const part of parts) {
    const methods = part as Record<string, (...args: unknown[]) => unknown>;
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(part))) {
      if (name === 'constructor') continue;
      if (name in joined) throw new Error(`Two store parts define ${name}.`);
      joined[name] = methods[name]!.bind(part);
    }
  }
  return joined as Joined<P>;
}
