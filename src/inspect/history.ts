interface Entry {
  json: string;
  registration: boolean;
}

/**
 * Everything the inspector was told since it started, in order, so a browser tab that connects
 * late still sees every actor and every message. Bounded by the total length of the JSON text
 * kept: past it, the oldest events and snapshots go first; actor registrations go only when
 * nothing else is left, because without its registration the inspector cannot draw an actor.
 */
export class InspectionHistory {
  private entries: Array<Entry | undefined> = [];
  /** Every event or snapshot before this index was dropped (registrations may remain). */
  private eventScan = 0;
  private registrationScan = 0;
  private chars = 0;
  private kept = 0;
  /** How many messages were dropped to stay under the cap. */
  dropped = 0;

  constructor(readonly maxChars: number) {}

  /** Keeps one message (JSON text). */
  add(json: string, registration: boolean): void {
    this.entries.push({ json, registration });
    this.chars += json.length;
    this.kept++;
    while (this.chars > this.maxChars && this.kept > 1) this.dropOldest();
  }

  /** The messages to send a new tab, oldest first. */
  *replay(): Generator<string> {
    for (const entry of this.entries) if (entry) yield entry.json;
  }

  /** How many messages are kept. */
  get length(): number {
    return this.kept;
  }

  private dropOldest(): void {
    while (this.eventScan < this.entries.length && this.entries[this.eventScan]?.registration !== false) this.eventScan++;
    let index = this.eventScan;
    if (index >= this.entries.length) {
      // Only registrations are left.
      while (!this.entries[this.registrationScan]) this.registrationScan++;
      index = this.registrationScan;
    }
    this.chars -= this.entries[index]!.json.length;
    this.entries[index] = undefined;
    this.kept--;
    this.dropped++;
    // Squeeze out the holes now and then (rather than splice per drop, which is linear).
    if (this.dropped % 4096 === 0 && this.kept * 2 < this.entries.length) {
      this.entries = this.entries.filter((entry) => entry !== undefined);
      this.eventScan = 0;
      this.registrationScan = 0;
    }
  }
}
