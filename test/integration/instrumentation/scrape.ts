/** Fetches a /metrics page as text (read it with `sample` from test/support/exposition). */
export async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.text();
}
