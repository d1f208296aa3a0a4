// Fuzz: thousands of random edits (deleted spans, stray brackets, truncation, odd Unicode,
// copy-paste, snippets) applied to realistic Rust sources, saved one after another. For every
// save: nothing throws, and no finding names an item whose text did not change — each finding's
// item must overlap the edited region, or (for embedded-by-value findings) point at a type that
// does; a finding about the code itself (a hot closure subsecond never patches) must be one the
// pristine sources already had, or sit in a function the edit touched. Every few saves the
// incrementally maintained result is compared with a from-scratch analysis of the same text, and
// every edit sequence ends with a revert that must bring back exactly the pristine findings.
// The PRNG is seeded: a failure message carries the seed and step to reproduce it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PatchabilityAnalyzer } from '../../../server/src/analysis';
import { changedRegion, CODE_PROPERTY_CODES, Extents, mulberry32, mutate, unexplained } from './fuzz-support';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/analysis');
const SEED = Number(process.env.ANALYSIS_FUZZ_SEED ?? 20250101);
const EDITS = Number(process.env.ANALYSIS_FUZZ_EDITS ?? 3000);

describe('analysis: fuzzed edits on realistic sources', function () {
  this.timeout(180000);

  it(`${EDITS} random saves never throw and never warn about an item whose text did not change (seed ${SEED})`, async () => {
    const r = mulberry32(SEED);
    const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.rs')).sort();
    const sources = names.map((n) => fs.readFileSync(path.join(FIXTURES, n), 'utf8'));
    const extents = sources.map((s) => new Extents(s));
    const inc = await PatchabilityAnalyzer.create();
    const fresh = await PatchabilityAnalyzer.create();
    const files = names.map((n) => `/fuzz/src/${n}`);
    sources.forEach((s, i) => inc.update(files[i], s));
    sources.forEach((s, i) => fresh.update(files[i], s));
    // findings about the code as it is (never about an edit): what every revert must come back to
    const pristine = [...inc.findings().values()].flat();
    assert.ok(pristine.every((f) => CODE_PROPERTY_CODES.has(f.code)), `the pristine sources have only code-property findings:\n${pristine.map((f) => f.message).join('\n')}`);
    assert.ok(pristine.length > 0, 'a fixture holds a hot closure subsecond never patches, so that finding is fuzzed too');
    let saves = 0;
    let compared = 0;
    let mismatches = 0;
    let findingsSeen = 0;
    let crossFile = 0;
    try {
      while (saves < EDITS) {
        const fi = Math.floor(r() * sources.length);
        const orig = sources[fi];
        const file = files[fi];
        let text = orig;
        const steps = 1 + Math.floor(r() * 3);
        const trail: string[] = [];
        for (let k = 0; k < steps && saves < EDITS; k++) {
          const e = mutate(text, r);
          text = e.text;
          trail.push(e.what);
          saves++;
          inc.update(file, text);
          const found = inc.findingsFor(file);
          const others = [...inc.findings()].filter(([f]) => f !== file).flatMap(([, list]) => list);
          findingsSeen += found.length;
          crossFile += others.length;
          const bad = unexplained(orig, text, extents[fi], file, found, others, pristine);
          assert.deepEqual(
            bad.map((f) => `${f.code} ${f.item}: ${f.message}`),
            [],
            `seed ${SEED}, save ${saves}, ${names[fi]} after: ${trail.join(' | ')}\n${changedRegion(orig, text)}`,
          );
          inc.changeSummary();
          inc.hasParseErrors(file);
          if (saves % 10 === 0) {
            // the incremental result equals a from-scratch analysis of the same text
            fresh.remove(file);
            fresh.setBaseline(file, orig);
            fresh.update(file, text);
            compared++;
            const a = JSON.stringify([found, inc.changeSummary().filter((x) => x.file === file)]);
            const b = JSON.stringify([fresh.findingsFor(file), fresh.changeSummary().filter((x) => x.file === file)]);
            fresh.update(file, orig);
            if (a !== b) {
              mismatches++;
              assert.ok(inc.hasParseErrors(file), `incremental and fresh analysis differ on parseable text: seed ${SEED}, save ${saves}, ${trail.join(' | ')}\n${a}\n${b}`);
            }
          }
        }
        inc.update(file, orig);
        assert.deepEqual([...inc.findings().values()].flat(), pristine, `reverting clears every finding the edits caused (seed ${SEED}, save ${saves})`);
        assert.deepEqual(inc.changeSummary(), [], `reverting leaves nothing to patch (seed ${SEED}, save ${saves})`);
      }
    } finally {
      inc.dispose();
      fresh.dispose();
    }
    if (process.env.ANALYSIS_FUZZ_VERBOSE) console.log(`saves ${saves}, findings ${findingsSeen} (+${crossFile} in other files), compared ${compared}, differing on broken text ${mismatches}`);
    assert.ok(compared > EDITS / 20);
    // on broken text tree-sitter's error recovery may differ between incremental and fresh parses
    assert.ok(mismatches <= compared / 10, `${mismatches} of ${compared} comparisons differ`);
    assert.ok(findingsSeen > 0, 'the fuzzer produced some real findings too');
    assert.ok(crossFile > 0, 'and some effects in other files');
  });
});
