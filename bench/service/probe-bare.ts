// Ad-hoc probe (not part of npm run bench): sequential chats against the bare handler, the
// baseline of probe-open.ts's "full" path (compare their --cpu-prof profiles per request).
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { bareChatServer } from "./backends.js";
import { Client, percentile } from "./measure.js";

const server = bareChatServer();
server.listen(0, "127.0.0.1");
await once(server, "listening");
const c = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
const n = Number(process.argv[2] ?? 3000);
const t: number[] = [];
for (let i = 0; i < n; i++) t.push((await c.chat())[0]);
t.sort((a, b) => a - b);
console.log(`bare p50 ${percentile(t, 50).toFixed(0)} µs p90 ${percentile(t, 90).toFixed(0)}`);
await c.close();
server.close();
