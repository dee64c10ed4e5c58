// The few host APIs the pure engine may use: they exist alike in browsers, Node and
// Electron, so they are declared here instead of pulling in DOM or Node typings.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string);
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare const performance: { now(): number };
