// What the studio remembers between launches, as JSON files in its home folder: the
// preferences and recent files (preferences.json) and the profiles measured per model
// (profiles/<model sha256>.json; a device executor's own profile of the model apart, in
// profiles/<model sha256>.device-<sha256 of its URL, 16 hex>.json with its URL). Every write is atomic; a file that cannot be read back
// (corrupted, hand-edited, from a future version) is moved aside with a log line and
// defaults are used, so a bad file never stops the studio from starting.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { preferencesSchema, recentFileSchema, type Preferences, type RecentFile } from '../../app/studio/contract.js';
import { DEFAULT_PROFILE_RUNS, DEFAULT_PROFILE_WARMUP, type LatencyProfile } from '../../app/profiling/types.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { jsonSyntaxProblem } from '../files/json-file.js';
import { firstLine } from '../errors/user-errors.js';
import { readRegularFileSync } from '../files/regular-file.js';
import { checkProfileShape } from '../profiling/profiler.js';

export const RECENT_FILES_LIMIT = 10;

export type StudioLog = (line: string) => void;

/**
 * The studio's home folder: $NEUROSURGEON_STUDIO_HOME, else Electron's userData folder
 * when given, else $XDG_CONFIG_HOME/neurosurgeon-studio (~/.config/... by default).
 */
export function studioHomeDir(env: NodeJS.ProcessEnv = process.env, electronUserData?: string): string {
  if (env.NEUROSURGEON_STUDIO_HOME) return path.resolve(env.NEUROSURGEON_STUDIO_HOME);
  if (electronUserData) return electronUserData;
  const configHome = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(configHome, 'neurosurgeon-studio');
}

export function defaultPreferences(): Preferences {
  return { theme: 'system', localEp: 'cpu', profileRuns: DEFAULT_PROFILE_RUNS, profileWarmup: DEFAULT_PROFILE_WARMUP, remoteExecutor: null };
}

const settingsFileSchema = z.object({
  schemaVersion: z.literal(1),
  preferences: preferencesSchema,
  recentFiles: z.array(recentFileSchema),
  /** The export folder picked in Electron's dialog; kept apart from the preferences a page may set. */
  exportDir: z.string().nullable().optional()
});

/** Moves an unreadable file aside (keeping it for the user) and says so. */
function quarantine(file: string, problem: string, log: StudioLog): void {
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(file, aside);
    log(`studio: ${path.basename(file)} could not be read (${problem}); moved it to ${path.basename(aside)} and used defaults`);
  } catch {
    log(`studio: ${path.basename(file)} could not be read (${problem}); using defaults`);
  }
}

/** The studio's own JSON files are small; a bigger one is not one of them. */
const MAX_STUDIO_FILE_BYTES = 64 << 20;

function readJson(file: string, log: StudioLog): unknown | undefined {
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    // A regular file of bounded size only (main/files/regular-file.ts): a FIFO or a device
    // put in its place is refused at once instead of hanging or filling memory.
    text = readRegularFileSync(file, { maxBytes: MAX_STUDIO_FILE_BYTES, what: 'a studio file' }).toString('utf8');
  } catch (error) {
    log(`studio: ${firstLine(error)}; using defaults`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    quarantine(file, `not JSON: ${jsonSyntaxProblem(error, text)}`, log);
    return undefined;
  }
}

/** Preferences and recent files, in memory and in preferences.json. */
export class PreferencesStore {
  readonly file: string;
  private preferences: Preferences;
  private recentFiles: RecentFile[];
  private chosenExportDir: string | null;

  constructor(
    readonly home: string,
    private readonly log: StudioLog = (line) => process.stderr.write(`${line}\n`)
  ) {
    this.file = path.join(home, 'preferences.json');
    const json = readJson(this.file, log);
    const parsed = json === undefined ? null : settingsFileSchema.safeParse(json);
    if (parsed && !parsed.success) {
      const issue = parsed.error.issues[0];
      quarantine(this.file, `${issue.path.join('.') || 'document'}: ${issue.message}`, log);
    }
    this.preferences = parsed?.success ? parsed.data.preferences : defaultPreferences();
    this.recentFiles = parsed?.success ? parsed.data.recentFiles : [];
    this.chosenExportDir = parsed?.success ? (parsed.data.exportDir ?? null) : null;
  }

  get(): Preferences {
    return structuredClone(this.preferences);
  }

  /** Applies a change (checked against the contract's schema) and saves it. */
  set(change: Partial<Preferences>): Preferences {
    this.preferences = preferencesSchema.parse({ ...this.preferences, ...change });
    this.save();
    return this.get();
  }

  recent(): RecentFile[] {
    return structuredClone(this.recentFiles);
  }

  /** Puts a file first in the recent list (once), keeping RECENT_FILES_LIMIT entries; `uploaded` marks a kept upload. */
  addRecent(filePath: string, uploaded = false): RecentFile[] {
    const entry: RecentFile = { path: filePath, fileName: path.basename(filePath), openedAt: new Date().toISOString(), ...(uploaded ? { uploaded: true } : {}) };
    this.recentFiles = [entry, ...this.recentFiles.filter((r) => r.path !== filePath)].slice(0, RECENT_FILES_LIMIT);
    this.save();
    return this.recent();
  }

  /** The export folder the user picked in the native dialog, or null. Not part of the page-settable preferences. */
  exportDir(): string | null {
    return this.chosenExportDir;
  }

  setExportDir(dir: string): void {
    this.chosenExportDir = path.resolve(dir);
    this.save();
  }

  private save(): void {
    const document = { schemaVersion: 1, preferences: this.preferences, recentFiles: this.recentFiles, ...(this.chosenExportDir ? { exportDir: this.chosenExportDir } : {}) };
    writeFileAtomic(this.file, `${JSON.stringify(document, null, 2)}\n`);
  }
}

export interface StoredProfiles {
  local: LatencyProfile | null;
  remote: LatencyProfile | null;
}

/** Profiles measured per model, one file per model id (the file's SHA-256). */
export class ProfileStore {
  readonly folder: string;

  constructor(
    home: string,
    private readonly log: StudioLog = (line) => process.stderr.write(`${line}\n`)
  ) {
    this.folder = path.join(home, 'profiles');
  }

  private fileOf(modelId: string): string {
    if (!/^[0-9a-f]{64}$/.test(modelId)) throw new Error(`not a model id: ${modelId}`);
    return path.join(this.folder, `${modelId}.json`);
  }

  get(modelId: string): StoredProfiles {
    const file = this.fileOf(modelId);
    const json = readJson(file, this.log);
    if (json === undefined) return { local: null, remote: null };
    try {
      const record = json as Record<string, unknown>;
      if (typeof record !== 'object' || record === null || record.schemaVersion !== 1) throw new Error('schemaVersion is not 1');
      const side = (name: 'local' | 'remote'): LatencyProfile | null => {
        const value = record[name];
        if (value === null || value === undefined) return null;
        const profile = checkProfileShape(value, `${name} profile`);
        if (profile.model.sha256 !== modelId) throw new Error(`${name} profile was made for another model`);
        return profile;
      };
      return { local: side('local'), remote: side('remote') };
    } catch (error) {
      quarantine(file, (error as Error).message, this.log);
      return { local: null, remote: null };
    }
  }

  private deviceFileOf(modelId: string, deviceId: string): string {
    const key = createHash('sha256').update(deviceId).digest('hex').slice(0, 16);
    return this.fileOf(modelId).replace(/\.json$/, `.device-${key}.json`);
  }

  /** A device executor's profile of the model (null when it has none, or its file is unreadable). */
  getDevice(modelId: string, deviceId: string): LatencyProfile | null {
    const file = this.deviceFileOf(modelId, deviceId);
    const json = readJson(file, this.log);
    if (json === undefined) return null;
    try {
      const record = json as Record<string, unknown>;
      if (typeof record !== 'object' || record === null || record.schemaVersion !== 1 || record.device !== deviceId) throw new Error('not a device profile file of this device');
      const profile = checkProfileShape(record.local, 'device profile');
      if (profile.model.sha256 !== modelId) throw new Error('the device profile was made for another model');
      return profile;
    } catch (error) {
      quarantine(file, (error as Error).message, this.log);
      return null;
    }
  }

  putDevice(modelId: string, deviceId: string, profile: LatencyProfile): void {
    mkdirSync(this.folder, { recursive: true });
    writeFileAtomic(this.deviceFileOf(modelId, deviceId), `${JSON.stringify({ schemaVersion: 1, device: deviceId, local: profile })}\n`);
  }

  /** Keeps a profile for one side; the other side's stays as it was. */
  put(modelId: string, side: 'local' | 'remote', profile: LatencyProfile): StoredProfiles {
    const stored = { ...this.get(modelId), [side]: profile };
    mkdirSync(this.folder, { recursive: true });
    writeFileAtomic(this.fileOf(modelId), `${JSON.stringify({ schemaVersion: 1, ...stored })}\n`);
    return stored;
  }
}
