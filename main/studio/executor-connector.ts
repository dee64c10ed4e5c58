// How the studio reaches an executor at a URL: the executor client of the Open Inference
// Protocol (main/executor/client.ts), seen through the calls ExecutorLink needs.
import { ExecutorClient } from '../executor/client.js';
import type { ExecutorConnector } from './executor-link.js';

export const connectExecutor: ExecutorConnector = ({ url, token }) => new ExecutorClient({ url, token });
