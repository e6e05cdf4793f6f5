// Public entry of @zrpc/wire. Symbols are listed by name: first those for applications, then
// those for other zrpc packages.

export { Float64, f64, Ext, TIMESTAMP_EXT_TYPE, timestampFromDate, timestampToDate, timestampParts } from "./values.js";
export type { WireValue } from "./values.js";
export { encodeValue } from "./encoder.js";
export { decodeValue } from "./decoder.js";
export type { DecodeOptions } from "./decoder.js";
export type { EncodeOptions } from "./encoder.js";
export { ZrpcError, ProtocolError, EncodeError } from "./errors.js";
export type { ZrpcErrorCode, ZrpcErrorCodes, ProtocolErrorReason, ProtocolErrorOptions } from "./errors.js";
export { PROTOCOL_VERSION, EventNames, encodeEvent, encodeEventChunks, decodeEvent, createEvent } from "./event.js";
export type { Event, WireHeader } from "./event.js";
export { newMessageId, messageIdToString } from "./message-id.js";
export type { MessageId } from "./message-id.js";

// Symbols below are for other zrpc packages (channel, transports, server, client): message-id
// bookkeeping and the error-brand helper. (ZeroMQ envelopes are in @zrpc/channel.)

export { createMessageIdGenerator, messageIdKey, messageIdEquals } from "./message-id.js";
export { defineErrorBrand } from "./errors.js";
