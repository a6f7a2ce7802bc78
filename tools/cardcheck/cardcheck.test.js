// The checks of cardcheck.js fail where they must: node --test.
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const { problems, AC } = require("./cardcheck.js");

const v12 = AC.Versions.v1_2;
const v15 = AC.Versions.v1_5;
const card = (version, body) => ({ type: "AdaptiveCard", version, body });
const text = { type: "RichTextBlock", inlines: [{ type: "TextRun", text: "a", weight: "Bolder" }] };

test("a card of known elements passes", () => {
  assert.deepStrictEqual(problems(card("1.2", [text]), v12), []);
  assert.deepStrictEqual(problems({ ...card("1.2", [text]), msteams: { width: "Full" } }, v15), []);
});

test("an element newer than 1.2 fails as 1.2", () => {
  const table = card("1.2", [{ type: "Table", columns: [{ width: 1 }], rows: [] }]);
  assert.notDeepStrictEqual(problems(table, v12), []);
  const execute = { ...card("1.2", [text]), actions: [{ type: "Action.Execute", title: "x" }] };
  assert.notDeepStrictEqual(problems(execute, v12), []);
});

test("a property newer than 1.2 fails as 1.2", () => {
  const labelled = card("1.2", [{ type: "Input.Text", id: "a", label: "L", isRequired: true, errorMessage: "E" }]);
  assert.notDeepStrictEqual(problems(labelled, v12), []);
  assert.deepStrictEqual(problems(labelled, v15), []);
});

test("a property outside the schema fails", () => {
  const colored = card("1.2", [{ ...text, color: "attention" }]);
  assert.match(problems(colored, v15).join("\n"), /color: not in the schema/);
});

test("an invalid value fails", () => {
  const huge = card("1.2", [{ type: "TextBlock", text: "x", size: "Huge" }]);
  assert.notDeepStrictEqual(problems(huge, v15), []);
});

test("duplicate IDs fail", () => {
  const twice = card("1.5", [{ type: "Input.Text", id: "a" }, { type: "Input.Text", id: "a" }]);
  assert.notDeepStrictEqual(problems(twice, v15), []);
});
