// Prints what the official @atproto/api RichText makes of each string.
// Usage: node richtext.mjs corpus.json > results.json
// corpus.json is a JSON array of strings; the output is a JSON array of
// {graphemeLength, length, facets} in the same order (facets as detected
// without handle resolution, sorted by byteStart as RichText sorts them).
import { readFileSync } from 'node:fs'
import { RichText } from '@atproto/api'

const corpus = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const results = corpus.map((text) => {
  const rt = new RichText({ text })
  rt.detectFacetsWithoutResolution()
  return {
    graphemeLength: rt.graphemeLength,
    length: rt.length,
    facets: rt.facets ?? [],
  }
})
process.stdout.write(JSON.stringify(results))
