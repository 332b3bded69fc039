// Weighted length of each string by the official twitter-text (config v3, its default).
// Usage: node count.cjs <node_modules dir>  < strings.json  > counts.json
"use strict";
const path = require("path");
const twttr = require(path.join(process.argv[2], "twitter-text"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const texts = JSON.parse(input);
  const out = texts.map((text) => {
    const parsed = twttr.parseTweet(text);
    return { weighted_length: parsed.weightedLength, valid: parsed.valid };
  });
  process.stdout.write(JSON.stringify(out));
});
