// Black-box probes of twitter-text 3.1.0 and its twemoji-parser, used to derive the data
// in govsocial_x/_data (see govsocial_x.testing.make_text_data).
// Usage: node probe.cjs <node_modules dir> emoji|tld  < candidates.json  > answers.json
//   emoji: for each candidate, true when twemoji-parser finds exactly one emoji spanning it
//   tld:   for each candidate TLD, true when "https://example.<tld>" is extracted whole
"use strict";
const path = require("path");
const modules = process.argv[2];
const mode = process.argv[3];
const twttr = require(path.join(modules, "twitter-text"));
const twemoji = require(path.join(modules, "twemoji-parser"));

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const candidates = JSON.parse(input);
  const answers = candidates.map((text) => {
    if (mode === "emoji") {
      const found = twemoji.parse(text);
      return found.length === 1 && found[0].indices[0] === 0 && found[0].indices[1] === text.length;
    }
    const url = "https://example." + text;
    const found = twttr.extractUrlsWithIndices(url);
    return found.length === 1 && found[0].url === url;
  });
  process.stdout.write(JSON.stringify(answers));
});
