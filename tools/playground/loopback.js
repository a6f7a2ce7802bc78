// Loaded before the Playground (node -r ./loopback.js): every server it
// opens listens on 127.0.0.1 only. The Playground has no option for the
// address and would otherwise listen on every interface, and what it
// serves (a mock connector, a conversation anyone can post to) is for this
// machine alone.
"use strict";

const net = require("net");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (typeof args[1] !== "string") {
      args.splice(1, 0, "127.0.0.1");
    }
  } else if (first && typeof first === "object" && first.port !== undefined && first.host === undefined) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
