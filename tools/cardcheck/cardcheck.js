// cardcheck validates every Adaptive Card in trustbot's golden files with
// the Adaptive Cards library (npm adaptivecards): each card is parsed as
// schema 1.5, the most Teams supports for bot cards, and message cards
// (version 1.2: check-ins and every other reply) also as 1.2, the schema
// older mobile clients render. A card fails on any parse or validation
// event (unknown element or action, a property newer than the version,
// an invalid value, duplicate IDs) and on any property the library drops
// when it reads the card, so that nothing reaches Teams that the schema
// does not know.
//
// Usage: node cardcheck.js DIR...   (exit status 1 on any problem)
"use strict";

const fs = require("fs");
const path = require("path");
// The package's main entry is an ES module that Node cannot load as it is;
// the bundled build can.
const AC = require("adaptivecards/dist/adaptivecards.js");

// Properties of the Teams host, outside the Adaptive Cards schema.
const hostProperties = new Set(["msteams"]);
// Defaults the library leaves out when it writes a card back.
const defaults = { "Input.ChoiceSet": { style: "compact" } };

function versionOf(v) {
  switch (v) {
    case "1.2": return AC.Versions.v1_2;
    case "1.5": return AC.Versions.v1_5;
  }
  return undefined;
}

// dropped lists the properties of want that the library did not keep in
// got, its own writing of the card.
function dropped(want, got, where, out) {
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) {
      out.push(`${where}: ${want.length} items, the library kept ${Array.isArray(got) ? got.length : 0}`);
      return out;
    }
    want.forEach((w, i) => dropped(w, got[i], `${where}[${i}]`, out));
    return out;
  }
  if (want === null || typeof want !== "object") {
    const same = typeof want === "string" && typeof got === "string" ? want.toLowerCase() === got.toLowerCase() : want === got;
    if (!same) out.push(`${where}: ${JSON.stringify(want)} read as ${JSON.stringify(got)}`);
    return out;
  }
  for (const [k, v] of Object.entries(want)) {
    if (where === "card" && hostProperties.has(k)) continue;
    if (k === "data") continue; // an action's data is the bot's own
    if (where === "card" && k === "version") continue; // written as the context's
    if (!(k in (got || {}))) {
      const d = defaults[want.type];
      if (d && d[k] === v) continue;
      out.push(`${where}.${k}: not in the schema (dropped)`);
      continue;
    }
    dropped(v, got[k], `${where}.${k}`, out);
  }
  return out;
}

// problems parses a card as the given schema version.
function problems(json, version) {
  const card = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext(version);
  card.parse(json, ctx);
  const out = [];
  for (let i = 0; i < ctx.eventCount; i++) {
    const e = ctx.getEventAt(i);
    out.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  for (const e of card.validateProperties().validationEvents) {
    out.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  dropped(json, card.toJSON(ctx), "card", out);
  return out;
}

// cards finds every Adaptive Card in a decoded golden file.
function cards(v, where, out) {
  if (Array.isArray(v)) {
    v.forEach((x, i) => cards(x, `${where}[${i}]`, out));
  } else if (v && typeof v === "object") {
    if (v.type === "AdaptiveCard") {
      out.push({ where, card: v });
      return out;
    }
    for (const [k, x] of Object.entries(v)) cards(x, `${where}.${k}`, out);
  }
  return out;
}

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : e.name.endsWith(".json") ? [p] : [];
  });
}

function main(dirs) {
  if (dirs.length === 0) {
    console.error("usage: node cardcheck.js DIR...");
    return 2;
  }
  let checked = 0;
  let failed = 0;
  const report = (file, where, msg) => {
    failed++;
    console.error(`${file} ${where}: ${msg}`);
  };
  for (const file of dirs.flatMap(files)) {
    const found = cards(JSON.parse(fs.readFileSync(file, "utf8")), "", []);
    for (const { where, card } of found) {
      checked++;
      const own = versionOf(card.version);
      if (!own) {
        report(file, where, `version ${JSON.stringify(card.version)}: trustbot sends 1.2 or 1.5`);
        continue;
      }
      for (const p of problems(card, AC.Versions.v1_5)) report(file, where, `as 1.5: ${p}`);
      if (own === AC.Versions.v1_2) {
        for (const p of problems(card, AC.Versions.v1_2)) report(file, where, `as 1.2: ${p}`);
      }
    }
  }
  if (checked === 0) {
    console.error("no cards found");
    return 1;
  }
  console.log(`${checked} cards checked, ${failed} problems`);
  return failed === 0 ? 0 : 1;
}

module.exports = { problems, cards, AC };

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
