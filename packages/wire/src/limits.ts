// Limits shared by the msgpack encoder (encoder.ts) and decoder (decoder.ts).

/** Default largest input accepted by the decoder, in bytes: 100 MiB, zerorpc-python's limit. */
export const DEFAULT_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;
/** Default deepest nesting of arrays and maps, for encoding and decoding alike. */
export const DEFAULT_MAX_DEPTH = 64;
