/**
 * A web frontend's first journeys, written only against the types that openapi-typescript
 * generates from the API's OpenAPI spec ("marketplace-api", see tsconfig.json) and called
 * through openapi-fetch: sign in with the session cookie and its CSRF token, post and
 * publish a task (a client), then list open tasks, accept one's confidentiality terms and
 * bid on it (a provider).
 *
 * tests/test_typescript_client.py generates the types from the spec and runs
 * `tsc --noEmit` here: a path, parameter, body or answer that the spec no longer has
 * fails the check, as it would fail the frontend's build.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "marketplace-api";

type Schemas = components["schemas"];
export type Api = Client<paths>;

/** An answer in the API's one error shape, as an exception. */
function failure(answer: Schemas["Error"]): Error {
  return new Error(`${answer.error.code}: ${answer.error.message}`);
}

/** A field the frontend relies on; the spec marks few answer fields as required. */
function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the answer has no ${what}`);
  return value;
}

/** A client of this browser's session: the cookie goes with every request, and the
 *  session's CSRF token with every POST, PUT, PATCH and DELETE (login included). */
export async function connect(baseUrl: string): Promise<Api> {
  const api = createClient<paths>({ baseUrl, credentials: "include" });
  const { data, error } = await api.GET("/api/v1/auth/csrf");
  if (error) throw failure(error);
  const token = data.csrf_token;
  const csrf: Middleware = {
    onRequest({ request }) {
      if (!["GET", "HEAD", "OPTIONS"].includes(request.method)) {
        request.headers.set("X-CSRFToken", token);
      }
      return request;
    },
  };
  api.use(csrf);
  return api;
}

export async function signIn(
  api: Api,
  email: string,
  password: string,
): Promise<Schemas["User"]> {
  const { data, error } = await api.POST("/api/v1/auth/login", {
    body: { email, password, remember: true },
  });
  if (error) throw failure(error);
  return data;
}

/** A client posts a task as a draft, then publishes it. */
export async function postTask(api: Api): Promise<Schemas["OwnerTask"]> {
  const draft: Schemas["TaskInput"] = {
    title: "Month-end bookkeeping in Xero",
    summary: "Reconcile two bank accounts and close the month, about 30 hours of work.",
    confidentiality: "terms_required",
    confidential_details: "Xero organisation: Acme Ltd; the accountant signs off the close.",
    service_model: "va",
    tier: 2,
    skills: [{ slug: "bookkeeping", min_level: 3 }],
    budget: { type: "fixed", min: 40_000, max: 60_000, currency: "usd" },
    deadline: "2026-03-31",
    timezone_need: { mode: "overlap", hours: 3 },
    languages: ["en"],
  };
  const created = await api.POST("/api/v1/tasks", { body: draft });
  if (created.error) throw failure(created.error);
  const published = await api.POST("/api/v1/tasks/{task_id}/publish", {
    params: { path: { task_id: present(created.data.id, "task id") } },
    body: {},
  });
  if (published.error) throw failure(published.error);
  for (const notice of published.data.notices) console.info(notice);
  return published.data.task;
}

/** A provider's first page of open tasks that ask for a skill, newest first. */
export async function openTasks(api: Api, skill: string): Promise<Schemas["Task"][]> {
  const { data, error } = await api.GET("/api/v1/tasks", {
    params: { query: { skills: [skill], sort: "newest", page_size: 20 } },
  });
  if (error) throw failure(error);
  return data.items;
}

/** A provider accepts the task's confidentiality terms (when it has any) and bids. */
export async function bid(api: Api, task: Schemas["Task"]): Promise<Schemas["Bid"]> {
  const task_id = present(task.id, "task id");
  const terms = task.confidentiality_terms;
  if (task.confidentiality === "terms_required" && terms) {
    const accepted = await api.POST("/api/v1/tasks/{task_id}/confidentiality", {
      params: { path: { task_id } },
      body: { terms_hash: present(terms.hash, "terms hash"), terms_version: terms.version ?? null },
    });
    if (accepted.error) throw failure(accepted.error);
  }
  const price: Schemas["Money"] = { amount: 50_000, currency: "usd" };
  const placed = await api.POST("/api/v1/tasks/{task_id}/bids", {
    params: { path: { task_id } },
    body: {
      price,
      milestones: [
        { title: "Bank reconciliations", amount: { amount: 20_000, currency: price.currency } },
        { title: "Month-end close", amount: { amount: 30_000, currency: price.currency } },
      ],
      timeline_days: 10,
      cover_letter: "I close the books for four Xero clients every month.",
    },
  });
  if (placed.error) throw failure(placed.error);
  return placed.data;
}

/** What a client has spent, per currency: every figure of a statement is money. */
export async function spend(api: Api): Promise<Schemas["Amount"][]> {
  const { data, error } = await api.GET("/api/v1/statements/me");
  if (error) throw failure(error);
  return data.totals.flatMap((line) => (line.spend ? [line.spend] : []));
}

/** Both sides of the journey, each in its own browser session. */
export async function journey(baseUrl: string): Promise<Schemas["Bid"]> {
  const client = await connect(baseUrl);
  await signIn(client, "owner@acme.example", "a long and unguessable passphrase");
  const posted = await postTask(client);

  const provider = await connect(baseUrl);
  const me = await signIn(provider, "va@example.com", "another long passphrase");
  console.info(`${me.name ?? me.email ?? "provider"} looks for bookkeeping work`);
  const found = (await openTasks(provider, "bookkeeping")).find((task) => task.id === posted.id);
  return bid(provider, present(found, "posted task in the list"));
}
