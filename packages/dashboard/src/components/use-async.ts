import { useCallback, useEffect, useState } from "preact/hooks";

// A page's read: loading, then the value or the error; `reload` reads again (after an action).

export type Async<T> = { loading: true; value?: undefined; error?: undefined } | { loading: false; value: T; error?: undefined } | { loading: false; value?: undefined; error: Error };

export function useAsync<T>(read: () => Promise<T>, deps: unknown[]): Async<T> & { reload: () => void } {
  const [state, setState] = useState<Async<T>>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => (previous.loading ? previous : { loading: true }));
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
