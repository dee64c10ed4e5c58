// Errors as the renderer sees them when a request to main fails: the name main gave the
// error (e.g. ModelFileError) and its one-line message, whichever host carried it; and the
// optional extras a host may offer beside the contract (connection loss, an upload road).
import type { StudioErrorPayload, StudioResult } from '../../app/studio/contract.js';

export class StudioRequestError extends Error {
  constructor(payload: StudioErrorPayload) {
    super(payload.message);
    this.name = payload.name;
  }
}

/** The host itself is gone (socket closed, window unloading): no request can be answered. */
export class HostConnectionError extends Error {
  override name = 'HostConnectionError';
}

/** A StudioHost that can also tell when its connection to main is lost. */
export interface ConnectionEvents {
  onConnectionLost(listener: (reason: string) => void): () => void;
}

/**
 * A host with a faster road for an upload's bytes than a contract request carrying them
 * (the web host: the chunk as an HTTP POST body, sent by the browser from the file itself).
 * Answers as upload.chunk does.
 */
export interface UploadChannel {
  sendUploadChunk?(params: { uploadId: string; offset: number; chunk: Blob }): Promise<StudioResult<'upload.chunk'>>;
}
