import { Link } from "../components/link";
import { paths } from "../router";

export function NotFoundPage({ path }: { path: string }) {
  return (
    <main>
      <h1>No such page</h1>
      <p class="notice" data-testid="not-found">
        The dashboard has no page at <code>/ui{path}</code>.
      </p>
      <p>
        <Link to={paths.overview()}>Go to the overview</Link>
      </p>
    </main>
  );
}
