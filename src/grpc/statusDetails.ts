/** The longest status message the driver sends: room for any message of its own. */
export const maxStatusDetails = 1024;

/**
 * A status message fit for the wire. Messages quote request values, and a request may be up to
 * 16 MiB: quoted whole, the message travels percent-encoded in the `grpc-message` trailer,
 * overflows the HTTP/2 header limit, the call never completes and the connection breaks for
 * every other call on it. So a long message is cut (never inside a surrogate pair).
 */
export function statusDetails(message: string): string {
  if (message.length <= maxStatusDetails) return message;
  let end = maxStatusDetails;
  const last = message.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${message.slice(0, end)}… [${message.length - end} more characters]`;
}
