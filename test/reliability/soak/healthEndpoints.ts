/** Small clients for the driver's HTTP side: the fault-injection API and the health port. */

/** POSTs a fault; throws unless the API accepted it. */
export async function postFault(faultPort: number, p: string, body: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${faultPort}${p}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${p} answered ${res.status}: ${text}`);
}

/** Clears every injected fault. */
export async function clearFaults(faultPort: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${faultPort}/faults`, { method: 'DELETE' });
  await res.text();
  if (res.status !== 200) throw new Error(`DELETE /faults answered ${res.status}`);
}

/** The value of an unlabelled metric in the Prometheus text of /metrics. */
export function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} ([0-9.eE+-]+|NaN)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export async function fetchMetrics(healthPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${healthPort}/metrics`);
  return res.text();
}

/** /healthz/mounts: per mount path, its state and reasons. */
export async function fetchMounts(
  healthPort: number,
): Promise<Record<string, { volumeId: string; state: string; reasons: string[]; stuck: boolean }>> {
  const res = await fetch(`http://127.0.0.1:${healthPort}/healthz/mounts`);
  return (await res.json()) as Record<string, { volumeId: string; state: string; reasons: string[]; stuck: boolean }>;
}
