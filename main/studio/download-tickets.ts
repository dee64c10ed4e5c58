// One-time download tickets for the web host's export zips: partition.download issues a
// random ticket naming one export folder; the web host's GET EXPORT_DOWNLOAD_PATH+ticket
// takes it once. A ticket is the secret (a plain link cannot carry the page's token in a
// header), so it is long, random, single-use and expires after a few minutes.
import { randomBytes } from 'node:crypto';

export const DOWNLOAD_TICKET_TTL_MS = 5 * 60_000;

export class DownloadTickets {
  private readonly tickets = new Map<string, { dir: string; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(dir: string): string {
    this.prune();
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, { dir, expires: this.now() + DOWNLOAD_TICKET_TTL_MS });
    return ticket;
  }

  /** The folder of a live ticket, which is spent by this call; null for an unknown, spent or expired one. */
  take(ticket: string): string | null {
    const found = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    if (!found || found.expires < this.now()) return null;
    return found.dir;
  }

  private prune(): void {
    const now = this.now();
    for (const [ticket, { expires }] of this.tickets) if (expires < now) this.tickets.delete(ticket);
  }
}
