import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/**
 * host:port handling with Go's net package wording, so listen and upstream errors read as
 * the real server's do ("address bad: missing port in address").
 */
export class AddressError extends Error {}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Go's net.SplitHostPort plus a numeric port, with Go's messages. */
export function splitHostPort(address: string): HostPort {
  const fail = (why: string): never => {
    throw new AddressError(`address ${address}: ${why}`);
  };
  const colon = address.lastIndexOf(":");
  if (colon < 0) fail("missing port in address");
  let host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (host.startsWith("[")) {
    if (!host.endsWith("]")) fail("missing ']' in address");
    host = host.slice(1, -1);
  } else if (host.includes(":")) {
    fail("too many colons in address");
  } else if (host.includes("[") || host.includes("]")) {
    fail("unexpected '[' in address");
  }
  if (portText === "") return { host, port: 0 };
  if (!/^[0-9]+$/.test(portText)) throw new AddressError(`lookup tcp/${portText}: unknown port`);
  const port = Number(portText);
  if (port > 65535) fail("invalid port");
  return { host, port };
}

/** Resolves a host the way Go's resolver picks for "tcp": the first IPv4 address, else the first. */
export async function resolveHost(host: string): Promise<string> {
  if (host === "" || isIP(host)) return host;
  try {
    const all = await lookup(host, { all: true });
    const pick = all.find((a) => a.family === 4) ?? all[0];
    if (pick) return pick.address;
  } catch {
    // fall through to Go's wording
  }
  throw new AddressError(`lookup ${host}: no such host`);
}

/** Go's TCPAddr.String(): IPv6 in brackets, an empty host stays empty. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's ResolveTCPAddr(...).String(), used to decide whether a listen address changed. */
export async function resolveTcpAddr(address: string): Promise<string> {
  const { host, port } = splitHostPort(address);
  return formatHostPort(await resolveHost(host), port);
}

export function isLoopbackHost(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1" || ip.startsWith("::ffff:127.");
}
