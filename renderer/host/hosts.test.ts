// The pure parts of the two hosts: the socket address derived from the page's, and
// errors unwrapped from Electron's IPC wording.
import { describe, expect, it } from 'vitest';
import { errorFromIpc } from './electron-host.js';
import { socketUrlForPage } from './web-socket-host.js';

describe('socketUrlForPage', () => {
  it('keeps the host and the token, on the studio socket path', () => {
    expect(socketUrlForPage({ protocol: 'http:', host: '127.0.0.1:4567', search: '?token=a+b/c' })).toBe('ws://127.0.0.1:4567/studio?token=a%20b%2Fc');
    expect(socketUrlForPage({ protocol: 'https:', host: 'example.test', search: '' })).toBe('wss://example.test/studio?token=');
  });
});

describe('errorFromIpc', () => {
  it("takes the error's name and message out of Electron's wrapper", () => {
    const wrapped = new Error("Error invoking remote method 'studio:request': ModelFileError: broken.onnx: not an ONNX model");
    expect(errorFromIpc(wrapped)).toEqual({ name: 'ModelFileError', message: 'broken.onnx: not an ONNX model' });
    expect(errorFromIpc(new Error("Error invoking remote method 'studio:request': plain failure"))).toEqual({ name: 'Error', message: 'plain failure' });
  });

  it('passes other errors through', () => {
    const error = new TypeError('bad');
    expect(errorFromIpc(error)).toEqual({ name: 'TypeError', message: 'bad' });
  });
});
