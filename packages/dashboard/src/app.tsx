import { useEffect, useRef, useState } from "preact/hooks";
import { type AuthState, authState, onAuthChange, setToken, token } from "./api/token";
import { Link } from "./components/link";
import { TokenPrompt } from "./components/token-prompt";
import { InvocationsPage } from "./pages/invocations";
import { NotFoundPage } from "./pages/not-found";
import { OverviewPage } from "./pages/overview";
import { PromiseDetailPage } from "./pages/promise-detail";
import { ScheduleDetailPage } from "./pages/schedule-detail";
import { SchedulesPage } from "./pages/schedules";
import { TaskHistoryPage } from "./pages/task-history";
import { type Location, paths, useLocation } from "./router";

// The frame: a skip link, the navigation, and the page the URL names. While the server refuses our
// token, the token prompt is all there is.

export function App() {
  const location = useLocation();
  const [auth, setAuth] = useState<AuthState>(authState);
  useEffect(() => onAuthChange(setAuth), []);
  // After moving to another page in place, keyboard and screen-reader users start at its content,
  // as they would after a page load (not on the link they followed, now gone).
  const content = useRef<HTMLDivElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else content.current?.focus({ preventScroll: true });
  }, [location.path]);

  if (auth.refused) return <TokenPrompt why={auth.refused} />;

  const section = location.path.startsWith("/invocations") || location.path.startsWith("/tasks") ? "invocations" : location.path.startsWith("/schedules") ? "schedules" : location.path === "/" ? "overview" : "";
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Resonate</span>
        <nav aria-label="Dashboard">
          <Link to={paths.overview()} aria-current={section === "overview" ? "page" : undefined}>
            Overview
          </Link>
          <Link to={paths.invocations()} aria-current={section === "invocations" ? "page" : undefined}>
            Invocations
          </Link>
          <Link to={paths.schedules()} aria-current={section === "schedules" ? "page" : undefined}>
            Schedules
          </Link>
        </nav>
        {token() && (
          <button type="button" class="link-button" onClick={() => setToken(undefined)}>
            Forget token
          </button>
        )}
      </header>
      <div id="content" tabIndex={-1} ref={content}>
        <Page location={location} key={location.path} />
      </div>
    </>
  );
}

function Page({ location }: { location: Location }) {
  const parts = location.path.split("/").filter(Boolean);
  const id = (i: number) => decodeURIComponent(parts[i] ?? "");
  if (parts.length === 0) return <OverviewPage />;
  if (parts[0] === "invocations" && parts.length === 1) return <InvocationsPage location={location} />;
  if (parts[0] === "invocations" && parts.length === 2) return <PromiseDetailPage id={id(1)} />;
  if (parts[0] === "tasks" && parts.length === 2) return <TaskHistoryPage id={id(1)} />;
  if (parts[0] === "schedules" && parts.length === 1) return <SchedulesPage />;
  if (parts[0] === "schedules" && parts.length === 2) return <ScheduleDetailPage id={id(1)} />;
  return <NotFoundPage path={location.path} />;
}
