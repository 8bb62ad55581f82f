import { useState } from "preact/hooks";
import { setToken } from "../api/token";

/** The only thing shown while the server refuses us: a form for an admin token. */
export function TokenPrompt({ why }: { why: string }) {
  const [value, setValue] = useState("");
  return (
    <main class="token-prompt">
      <h1>Admin token needed</h1>
      <p role="alert">{why}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) setToken(value.trim());
        }}
      >
        <label for="token">Token (a JWT with role "admin")</label>
        <input id="token" name="token" type="password" autocomplete="off" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit" class="primary">
          Use this token
        </button>
      </form>
      <p class="hint">It is kept for this browser tab only and sent to this server alone.</p>
    </main>
  );
}
