import { useCallback, useEffect, useState } from "preact/hooks";

// A page's read: loading, then the value or the error; `reload` reads again (after an action, or
// on a timer) and keeps showing the previous value meanwhile, so the page does not flicker.

export interface Async<T> {
  loading: boolean;
  value?: T;
  error?: Error;
}

export function useAsync<T>(read: () => Promise<T>, deps: unknown[]): Async<T> & { reload: () => void } {
  const [state, setState] = useState<Async<T>>({ loading: true });
  const [round, setRound] = useState(0);
  // A change of inputs is another read altogether (the old value is not of it); a reload is the same read again.
  useEffect(() => setState({ loading: true }), deps);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    read().then(
      (value) => current && setState({ loading: false, value }),
      (error: unknown) => current && setState({ loading: false, error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}
