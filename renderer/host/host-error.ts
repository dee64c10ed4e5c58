// Errors as the renderer sees them when a request to main fails: the name main gave the
// error (e.g. ModelFileError) and its one-line message, whichever host carried it.
import type { StudioErrorPayload } from '../../app/studio/contract.js';

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
