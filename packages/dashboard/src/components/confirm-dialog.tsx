import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

// A confirmation before a change, as a native modal <dialog>: it keeps the focus inside, Escape
// cancels, the form submits with Enter. The action's failure is shown in the dialog, which stays open.

export interface ConfirmProps {
  title: string;
  confirmLabel: string;
  /** Red button for what cannot be undone. */
  danger?: boolean;
  children?: ComponentChildren;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog(props: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      dialog.current?.close();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="confirm" aria-labelledby="confirm-title" onClose={props.onClose}>
      <form method="dialog" onSubmit={submit}>
        <h2 id="confirm-title">{props.title}</h2>
        {props.children}
        {error && (
          <p class="notice error" role="alert">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="button" onClick={() => dialog.current?.close()} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class={props.danger ? "danger" : "primary"} disabled={busy}>
            {busy ? "Working…" : props.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
